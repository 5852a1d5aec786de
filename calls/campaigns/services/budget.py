"""The org's outbound budget: one pool of Vapi concurrency shared by every campaign and single call.

Vapi gives an org N concurrent calls (VAPI_CONCURRENCY_LIMIT, default 10; the
``subscriptionLimits.concurrencyLimit`` Vapi reports wins), shared by inbound and outbound. The
outbound budget is N less the inbound reserve (OUTBOUND_INBOUND_RESERVE), or less the inbound calls
live right now when there are more of those.

The slots are the active DialAttempt rows themselves (reserved, requesting, unknown, accepted and
not yet ended at Vapi); nothing else needs to be kept in step. Every reservation takes one
transaction-scoped advisory lock before it counts and inserts (``budget_lock``), so no number of
workers can count the same free slot twice. A slot returns the moment the Call row says ``ended``,
even if the campaign effects of that end are applied later (by the hook or by the sweeper).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from calls.enums import ACTIVE_ATTEMPT_STATES, AttemptState, CallStatus, Direction
from calls.models import Call, DialAttempt, OutboundBudget

log = structlog.get_logger(__name__)

BUDGET_LOCK = (711_007, 0)  # the per-customer locks use class 711_006
LIVE_STATUSES = [CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.FORWARDING]
INBOUND_LIVE_WINDOW = dt.timedelta(hours=2)  # an inbound row older than this with no end is stale


@dataclass(frozen=True)
class BudgetUsage:
    """One look at the budget (the admin shows it; the dispatcher takes ``free``)."""

    limit: int
    limit_source: str
    reserve: int
    inbound_live: int
    budget: int
    in_use: int
    hold_until: dt.datetime | None
    hold_reason: str

    @property
    def free(self) -> int:
        if self.hold_until is not None:
            return 0
        return max(self.budget - self.in_use, 0)


def budget_lock() -> None:
    """Serialise every outbound reservation in the org until the caller's transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("budget_lock() must run inside transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(BUDGET_LOCK))


def _row() -> OutboundBudget:
    return OutboundBudget.objects.filter(pk=1).first() or OutboundBudget(pk=1)


def outbound_in_use() -> int:
    """Active attempts, less accepted ones whose call already ended (their slot is free at Vapi)."""
    return (
        DialAttempt.objects.filter(state__in=ACTIVE_ATTEMPT_STATES)
        .exclude(Q(state=AttemptState.ACCEPTED) & Q(call__status=CallStatus.ENDED))
        .count()
    )


def inbound_live(*, now: dt.datetime) -> int:
    return Call.objects.filter(
        direction=Direction.INBOUND, status__in=LIVE_STATUSES, created_at__gte=now - INBOUND_LIVE_WINDOW
    ).count()


def budget_usage(*, now: dt.datetime | None = None) -> BudgetUsage:
    now = now or timezone.now()
    row = _row()
    limit = row.reported_limit or settings.VAPI_CONCURRENCY_LIMIT
    reserve = max(settings.OUTBOUND_INBOUND_RESERVE, 0)
    inbound = inbound_live(now=now)
    hold = row.hold_until if row.hold_until is not None and row.hold_until > now else None
    return BudgetUsage(
        limit=limit,
        limit_source="Vapi subscriptionLimits" if row.reported_limit else "VAPI_CONCURRENCY_LIMIT",
        reserve=reserve,
        inbound_live=inbound,
        budget=max(limit - max(reserve, inbound), 0),
        in_use=outbound_in_use(),
        hold_until=hold,
        hold_reason=row.hold_reason if hold else "",
    )


def budget_free(*, now: dt.datetime) -> int:
    """Free outbound slots; call with ``budget_lock()`` held so the answer stays true until commit."""
    return budget_usage(now=now).free


def budget_report_limits(*, limits: Any, now: dt.datetime | None = None) -> None:
    """Follow ``subscriptionLimits.concurrencyLimit`` from a POST /call answer (written only on change)."""
    if not isinstance(limits, dict):
        return
    limit = limits.get("concurrencyLimit")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        return
    if OutboundBudget.objects.filter(pk=1, reported_limit=limit).exists():
        return
    now = now or timezone.now()
    OutboundBudget.objects.update_or_create(pk=1, defaults={"reported_limit": limit, "reported_at": now})
    log.info("outbound.budget.limit_reported", concurrency_limit=limit)


def budget_hold(*, until: dt.datetime, reason: str) -> None:
    """Vapi refused (429 / concurrency): nobody dials until ``until`` (a later hold wins)."""
    with transaction.atomic():
        row, _ = OutboundBudget.objects.select_for_update().get_or_create(pk=1)
        if row.hold_until is None or row.hold_until < until:
            row.hold_until = until
            row.hold_reason = reason[:500]
            row.save(update_fields=["hold_until", "hold_reason"])
    log.warning("outbound.budget.hold", until=until.isoformat(), reason=reason)


def budget_hold_until(*, now: dt.datetime) -> dt.datetime | None:
    row = OutboundBudget.objects.filter(pk=1, hold_until__gt=now).values_list("hold_until", flat=True)
    return row.first()
