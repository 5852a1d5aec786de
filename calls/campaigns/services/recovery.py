"""Crash recovery for dial attempts, run from the beat tick.

- ``reserved`` for longer than OUTBOUND_RESERVED_STALE_SECONDS: the worker died before sending
  (``requesting`` is committed before the request leaves), so abandoning it cannot lose a call;
  the recipient is due again under a new attempt.
- ``requesting`` past OUTBOUND_REQUESTING_STALE_SECONDS, or ``unknown``: Vapi may have the call.
  Reconcile by listing Vapi's calls for the label we sent, each attempt at most every 5 s, 10 s,
  20 s ... (``next_reconcile_at``, so a Vapi outage costs a handful of lookups, not one per tick);
  after OUTBOUND_LOST_AFTER_SECONDS and three looks without a match the attempt is ``lost`` and the
  recipient is due again (a call that never existed is not an attempt).
- ``accepted`` whose Call has ended for OUTBOUND_STALL_REPAIR_SECONDS: the end's effects never ran
  (a worker killed after the call's end committed, a database blip in the hook). Apply them now,
  so the recipient reaches a final state and the campaign slot comes back.
- ``ended`` on a provisional outcome whose Call has its end-of-call report: correct it.
"""

from __future__ import annotations

import datetime as dt

import structlog
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from calls.campaigns.services.dialing import attempt_reconcile
from calls.campaigns.services.ended import call_ended_apply
from calls.campaigns.services.transitions import attempt_abandon
from calls.enums import AttemptState, CallStatus
from calls.models import Call, DialAttempt

log = structlog.get_logger(__name__)


def dial_attempts_recover(*, now: dt.datetime | None = None, limit: int = 200) -> dict[str, int]:
    now = now or timezone.now()
    abandoned = 0
    stale_reserved = DialAttempt.objects.filter(
        state=AttemptState.RESERVED,
        created_at__lt=now - dt.timedelta(seconds=settings.OUTBOUND_RESERVED_STALE_SECONDS),
    ).order_by("created_at")[:limit]
    for attempt in stale_reserved:
        if attempt_abandon(attempt=attempt, reason="The dispatcher stopped before sending this attempt."):
            abandoned += 1
    reconciled = 0
    ambiguous = DialAttempt.objects.filter(
        Q(state=AttemptState.UNKNOWN, next_reconcile_at__isnull=True)
        | Q(state=AttemptState.UNKNOWN, next_reconcile_at__lte=now)
        | Q(
            state=AttemptState.REQUESTING,
            requested_at__lt=now - dt.timedelta(seconds=settings.OUTBOUND_REQUESTING_STALE_SECONDS),
        )
    ).order_by("requested_at")[:limit]
    for attempt in ambiguous:
        result = attempt_reconcile(attempt_id=attempt.pk, now=now)
        reconciled += int(result.state != attempt.state)
    repaired = call_ends_repair(now=now, limit=limit)
    if abandoned or reconciled or repaired:
        log.info("outbound.recover", abandoned=abandoned, reconciled=reconciled, repaired=repaired)
    return {"abandoned": abandoned, "reconciled": reconciled, "repaired": repaired}


def call_ends_repair(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """Apply call-ended effects that never ran (the stall sweeper). Returns how many calls it touched."""
    now = now or timezone.now()
    settled = now - dt.timedelta(seconds=settings.OUTBOUND_STALL_REPAIR_SECONDS)
    stalled = (
        DialAttempt.objects.filter(
            Q(state=AttemptState.ACCEPTED) | Q(state=AttemptState.ENDED, outcome_final=False),
            call__status=CallStatus.ENDED,
            call__updated_at__lt=settled,
        )
        .exclude(Q(state=AttemptState.ENDED) & Q(call__has_final_report=False))
        .values_list("call_id", flat=True)
        .order_by("call__updated_at")[:limit]
    )
    repaired = 0
    for call in Call.objects.filter(pk__in=list(stalled)):
        call_ended_apply(call=call)
        repaired += 1
    if repaired:
        log.warning("outbound.stall.repaired", calls=repaired)
    return repaired
