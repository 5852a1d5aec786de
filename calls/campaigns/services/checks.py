"""Pre-dial checks and the decision ledger they write to.

Each check returns a :class:`Verdict`; the dispatcher stores every verdict as a
``DispatchDecision`` in the same transaction that acts on it, so the ledger and what
happened can never disagree.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.db import connection
from django.db.models import Min
from phonenumbers import timezone as pn_timezone

from calls.enums import ACTIVE_ATTEMPT_STATES, DIALED_ATTEMPT_STATES, DecisionRule
from calls.models import Campaign, CampaignRecipient, Customer, DialAttempt, DispatchDecision, OutboundSwitch
from voiceops import metrics


@dataclass(frozen=True)
class Verdict:
    rule: DecisionRule
    allowed: bool
    detail: str = ""
    retry_at: dt.datetime | None = None  # when the block lifts by itself (window, caps)


ALLOW = Verdict(DecisionRule.ALLOWED, True)


def decision_record(
    *,
    verdict: Verdict,
    at: dt.datetime,
    campaign: Campaign | None = None,
    recipient: CampaignRecipient | None = None,
    customer: Customer | None = None,
    attempt: DialAttempt | None = None,
) -> DispatchDecision:
    metrics.dispatch_decided(verdict.rule)
    return DispatchDecision.objects.create(
        at=at,
        campaign=campaign,
        recipient=recipient,
        customer=customer,
        attempt=attempt,
        rule=verdict.rule,
        allowed=verdict.allowed,
        detail=verdict.detail[:500],
    )


# --- time zones and the calling window -------------------------------------------------------
@lru_cache(maxsize=4096)
def time_zones_for_number(number: str) -> tuple[str, ...]:
    """IANA zones phonenumbers associates with a number (several for some area codes)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = tuple(z for z in pn_timezone.time_zones_for_number(parsed) if z in known_time_zones())
    return zones


@lru_cache(maxsize=1)
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def recipient_time_zones(*, recipient: CampaignRecipient) -> tuple[str, ...]:
    """The explicit zone if the CSV (or the customer) gave one, else every zone of the number.

    With several candidate zones the window must hold in all of them: calling someone at
    07:30 because we guessed the wrong zone is the failure we must not have.
    """
    explicit = recipient.time_zone or getattr(recipient.customer, "time_zone", "")
    if explicit and explicit in known_time_zones():
        return (explicit,)
    return time_zones_for_number(str(recipient.number))


def _next_opening(*, now: dt.datetime, zone: zoneinfo.ZoneInfo, start: dt.time) -> dt.datetime:
    """The next local ``start`` after ``now`` (called only when ``now`` is outside the window)."""
    local = now.astimezone(zone)
    day = local.date() if local.time() < start else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, start, tzinfo=zone).astimezone(dt.UTC)


def check_calling_window(*, campaign: Campaign, recipient: CampaignRecipient, now: dt.datetime) -> Verdict:
    zones = recipient_time_zones(recipient=recipient)
    if not zones:
        return Verdict(
            DecisionRule.TIME_ZONE, False, "No time zone given and none can be inferred from the number."
        )
    start, end = campaign.window_start, campaign.window_end
    outside: list[str] = []
    openings: list[dt.datetime] = []
    for name in zones:
        zone = zoneinfo.ZoneInfo(name)
        local = now.astimezone(zone)
        if not (start <= local.time() < end):
            outside.append(f"{local:%H:%M} in {name}")
            openings.append(_next_opening(now=now, zone=zone, start=start))
    if outside:
        return Verdict(
            DecisionRule.CALLING_WINDOW,
            False,
            f"Local time {', '.join(outside)} is outside {start:%H:%M}-{end:%H:%M}.",
            retry_at=max(openings),
        )
    local = now.astimezone(zoneinfo.ZoneInfo(zones[0]))
    return Verdict(
        DecisionRule.ALLOWED,
        True,
        f"Local time {local:%H:%M} in {zones[0]} is inside {start:%H:%M}-{end:%H:%M}.",
    )


# --- people ------------------------------------------------------------------------------------
def check_do_not_call(*, customer: Customer) -> Verdict:
    if customer.do_not_call:
        source = f" by {customer.do_not_call_source}" if customer.do_not_call_source else ""
        return Verdict(
            DecisionRule.DO_NOT_CALL, False, f"Added{source}: {customer.do_not_call_reason}".strip()
        )
    return ALLOW


def check_consent(*, campaign: Campaign, customer: Customer) -> Verdict:
    if campaign.requires_consent and not customer.consent:
        return Verdict(DecisionRule.CONSENT, False, "The campaign requires consent and none is recorded.")
    return ALLOW


def kill_switch_engaged() -> OutboundSwitch | None:
    switch = OutboundSwitch.objects.filter(pk=1, paused=True).first()
    return switch


def check_kill_switch() -> Verdict:
    switch = kill_switch_engaged()
    if switch is not None:
        when = f" at {switch.changed_at:%Y-%m-%d %H:%M:%S}" if switch.changed_at else ""
        return Verdict(DecisionRule.KILL_SWITCH, False, f"Paused by {switch.changed_by or 'unknown'}{when}.")
    return ALLOW


def customer_try_lock(*, customer_id: int) -> bool:
    """Transaction-scoped advisory lock on one customer, so two campaigns (each under its own
    campaign lock) cannot both pass the per-customer checks for the same person at once.
    ``try`` rather than wait: whoever loses simply skips the customer this round (no deadlocks)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [711_006, customer_id])
        return bool(cursor.fetchone()[0])


def check_customer_caps(*, customer: Customer, now: dt.datetime) -> Verdict:
    """At most one live call per customer, and at most OUTBOUND_CUSTOMER_MAX_ATTEMPTS dials in a
    rolling OUTBOUND_CUSTOMER_WINDOW_HOURS, across all campaigns and single calls."""
    if DialAttempt.objects.filter(customer=customer, state__in=ACTIVE_ATTEMPT_STATES).exists():
        return Verdict(
            DecisionRule.CUSTOMER_BUSY,
            False,
            "Another attempt to this customer is in progress.",
            retry_at=now + dt.timedelta(minutes=1),
        )
    limit = settings.OUTBOUND_CUSTOMER_MAX_ATTEMPTS
    window = dt.timedelta(hours=settings.OUTBOUND_CUSTOMER_WINDOW_HOURS)
    recent = DialAttempt.objects.filter(
        customer=customer, state__in=DIALED_ATTEMPT_STATES, created_at__gt=now - window
    )
    count = recent.count()
    if count >= limit:
        oldest = recent.aggregate(first=Min("created_at"))["first"] or now
        return Verdict(
            DecisionRule.CUSTOMER_CAP,
            False,
            f"{count} attempts in the last {settings.OUTBOUND_CUSTOMER_WINDOW_HOURS} h (cap {limit}).",
            retry_at=oldest + window,
        )
    return ALLOW
