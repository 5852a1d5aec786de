"""Crash recovery for dial attempts, run from the beat tick.

- ``reserved`` for longer than OUTBOUND_RESERVED_STALE_SECONDS: the worker died before sending
  (``requesting`` is committed before the request leaves), so abandoning it cannot lose a call;
  the recipient is due again under a new attempt.
- ``requesting`` past OUTBOUND_REQUESTING_STALE_SECONDS, or ``unknown``: Vapi may have the call.
  Reconcile by listing Vapi's calls for the label we sent; after OUTBOUND_LOST_AFTER_SECONDS and
  three looks without a match the attempt is ``lost`` and the recipient follows the failed policy.
"""

from __future__ import annotations

import datetime as dt

import structlog
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from calls.enums import AttemptState
from calls.models import DialAttempt
from calls.services.campaigns.dialing import attempt_abandon, attempt_reconcile

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
        Q(state=AttemptState.UNKNOWN)
        | Q(
            state=AttemptState.REQUESTING,
            requested_at__lt=now - dt.timedelta(seconds=settings.OUTBOUND_REQUESTING_STALE_SECONDS),
        )
    ).order_by("requested_at")[:limit]
    for attempt in ambiguous:
        result = attempt_reconcile(attempt_id=attempt.pk, now=now)
        reconciled += int(result.state != attempt.state)
    if abandoned or reconciled:
        log.info("outbound.recover", abandoned=abandoned, reconciled=reconciled)
    return {"abandoned": abandoned, "reconciled": reconciled}
