"""The campaign dispatcher: claim due recipients under the campaign's caps, then dial them.

Two phases, so no lock is held while waiting on Vapi:

1. Reserve (one short transaction). ``SELECT ... FOR NO KEY UPDATE SKIP LOCKED`` on the campaign
   row lets one dispatcher of a campaign reserve at a time (beat ticks, end-of-call refills,
   several workers), so counting active calls and then reserving can never overshoot the cap.
   A dispatcher that finds the row taken leaves at once instead of queueing behind it: every
   call end triggers a dispatch, and a queue of them was a convoy that held one connection each
   (96 of Postgres's 100 in the 500-call e2e test). The dispatcher that holds the row makes one
   more pass after a round that reserved, so a slot freed while it worked is not left for the
   next beat tick. Active calls are counted from
   the database (recipients ``dialing`` or ``in-call``), the per-minute budget from attempts
   created in the last 60 s. Due recipients are claimed with ``FOR UPDATE SKIP LOCKED`` (a
   recipient being finished by an end-of-call hook is skipped, not waited on). Every check runs
   here and each verdict is stored as a DispatchDecision; allowed recipients get a DialAttempt
   (``reserved``) and move to ``dialing`` -- the slot is taken from this commit on.
   Slots are also taken from the org's outbound budget (``budget``): the budget's advisory lock
   is held from the count to the commit, so campaigns and single calls together never exceed it.
2. Dial (outside the lock): the reserved attempts are sent by ``sending.attempts_send`` -- each
   moved to ``requesting`` in order, the POSTs overlapping (``CAMPAIGN_DIAL_CONCURRENCY``). The
   round stops at the first refusal (429, concurrency): the attempts not yet sent are released,
   due again when Vapi's Retry-After has passed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import structlog
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from calls.campaigns.selectors import campaign_spent
from calls.campaigns.services.budget import budget_free, budget_hold_until, budget_lock
from calls.campaigns.services.checks import (
    Verdict,
    check_calling_window,
    check_consent,
    check_customer_caps,
    check_do_not_call,
    check_kill_switch,
    customer_try_lock,
    decision_record,
)
from calls.campaigns.services.sending import attempts_send
from calls.campaigns.services.transitions import attempt_abandon, campaign_set_state
from calls.enums import AttemptState, CampaignState, DecisionRule, RecipientState
from calls.models import Campaign, CampaignRecipient, DialAttempt, DispatchDecision, OutboundSwitch

log = structlog.get_logger(__name__)

ACTIVE_RECIPIENT_STATES = [RecipientState.DIALING, RecipientState.IN_CALL]
DUE_STATES = [RecipientState.PENDING, RecipientState.RETRY]


@dataclass
class DispatchResult:
    campaign_id: int
    state: str = ""
    active: int = 0
    reserved: list[int] = field(default_factory=list)
    blocked: int = 0
    deferred: int = 0
    dialed: int = 0
    refused: int = 0
    released: int = 0
    budget_limited: bool = False
    stopped_by: str = ""
    busy: bool = False  # another dispatcher held the campaign: nothing done here


def _campaign_block_once(
    *, campaign: Campaign, verdict: Verdict, now: dt.datetime, since: dt.datetime | None
) -> None:
    """Campaign-wide blocks are stored once per cause, not on every tick."""
    recent = DispatchDecision.objects.filter(campaign=campaign, recipient__isnull=True, rule=verdict.rule)
    if since is not None:
        recent = recent.filter(at__gte=since)
    if not recent.exists():
        decision_record(verdict=verdict, at=now, campaign=campaign)


def _set_state(*, campaign: Campaign, state: str, reason: str, now: dt.datetime) -> None:
    """Change the state from inside a reservation: first take the row FOR UPDATE, which waits for
    dials holding FOR KEY SHARE (``dialing._campaign_share_lock``) and makes later ones see it."""
    Campaign.objects.select_for_update(of=("self",)).filter(pk=campaign.pk).values_list("pk").first()
    campaign_set_state(campaign=campaign, state=state, reason=reason, now=now)


def _campaign_gate(*, campaign: Campaign, now: dt.datetime, result: DispatchResult) -> bool:
    """Campaign-wide rules, under the campaign lock. False: dial nobody this round."""
    if campaign.state == CampaignState.SCHEDULED and (
        campaign.starts_at is None or campaign.starts_at <= now
    ):
        _set_state(campaign=campaign, state=CampaignState.RUNNING, reason="Start time reached.", now=now)
    if campaign.state != CampaignState.RUNNING:
        result.stopped_by = DecisionRule.CAMPAIGN_STATE
        return False
    if campaign.ends_at is not None and campaign.ends_at <= now:
        verdict = Verdict(
            DecisionRule.CAMPAIGN_ENDED, False, f"End time {campaign.ends_at:%Y-%m-%d %H:%M} UTC passed."
        )
        decision_record(verdict=verdict, at=now, campaign=campaign)
        CampaignRecipient.objects.filter(campaign=campaign, state__in=DUE_STATES).update(
            state=RecipientState.CANCELLED,
            next_attempt_at=None,
            last_error="Campaign end time passed.",
            updated_at=now,
        )
        _set_state(campaign=campaign, state=CampaignState.COMPLETED, reason=verdict.detail, now=now)
        result.stopped_by = verdict.rule
        return False
    kill = check_kill_switch()
    if not kill.allowed:
        switch = OutboundSwitch.objects.filter(pk=1).first()
        _campaign_block_once(
            campaign=campaign, verdict=kill, now=now, since=switch.changed_at if switch else None
        )
        result.stopped_by = kill.rule
        return False
    if campaign.spend_limit is not None:
        spent = campaign_spent(campaign=campaign)
        if spent >= float(campaign.spend_limit):
            verdict = Verdict(
                DecisionRule.SPEND_LIMIT, False, f"Spent {spent:.2f} of {campaign.spend_limit}."
            )
            decision_record(verdict=verdict, at=now, campaign=campaign)
            _set_state(campaign=campaign, state=CampaignState.PAUSED, reason=verdict.detail, now=now)
            result.stopped_by = verdict.rule
            return False
    if not campaign.assistant.vapi_id or not _pool(campaign):
        verdict = Verdict(
            DecisionRule.CONFIGURATION,
            False,
            "The assistant has no Vapi id (push it) or no phone number with a Vapi id is set.",
        )
        decision_record(verdict=verdict, at=now, campaign=campaign)
        _set_state(campaign=campaign, state=CampaignState.PAUSED, reason=verdict.detail, now=now)
        result.stopped_by = verdict.rule
        return False
    return True


def _pool(campaign: Campaign) -> list:
    numbers = [n for n in campaign.phone_numbers.all() if n.vapi_id]
    if not numbers and campaign.phone_number is not None and campaign.phone_number.vapi_id:
        numbers = [campaign.phone_number]
    return numbers


def _maybe_complete(*, campaign: Campaign, now: dt.datetime) -> None:
    open_states = DUE_STATES + ACTIVE_RECIPIENT_STATES
    if not CampaignRecipient.objects.filter(campaign=campaign, state__in=open_states).exists():
        if CampaignRecipient.objects.filter(campaign=campaign).exists():
            _set_state(
                campaign=campaign,
                state=CampaignState.COMPLETED,
                reason="Every recipient is finished.",
                now=now,
            )


def _check_recipient(*, campaign: Campaign, recipient: CampaignRecipient, now: dt.datetime) -> Verdict:
    """Every per-recipient rule, in order; the first block wins. Runs right before the reservation."""
    customer = recipient.customer
    if recipient.attempts >= campaign.max_attempts:
        return Verdict(
            DecisionRule.MAX_ATTEMPTS,
            False,
            f"{recipient.attempts} of {campaign.max_attempts} attempts used.",
        )
    for verdict in (
        check_do_not_call(customer=customer),
        check_consent(campaign=campaign, customer=customer),
    ):
        if not verdict.allowed:
            return verdict
    window = check_calling_window(campaign=campaign, recipient=recipient, now=now)
    if not window.allowed:
        return window
    if not customer_try_lock(customer_id=customer.pk):
        return Verdict(
            DecisionRule.CUSTOMER_BUSY,
            False,
            "Another dispatcher is deciding on this customer.",
            retry_at=now + dt.timedelta(seconds=5),
        )
    caps = check_customer_caps(customer=customer, now=now)
    return caps if not caps.allowed else window


def _reserve(*, campaign_id: int, now: dt.datetime, result: DispatchResult) -> None:
    with transaction.atomic():
        # FOR NO KEY UPDATE: serialises dispatchers of this campaign without blocking the dials of
        # earlier rounds (FOR KEY SHARE); a pause or cancel (FOR UPDATE) still waits for both.
        campaign = (
            Campaign.objects.select_for_update(of=("self",), no_key=True, skip_locked=True)
            .select_related("assistant", "phone_number")
            .filter(pk=campaign_id)
            .first()
        )
        if campaign is None:  # another dispatcher is reserving (or a pause/cancel holds it)
            result.busy = True
            return
        result.state = campaign.state
        if not _campaign_gate(campaign=campaign, now=now, result=result):
            result.state = campaign.state
            return
        active = CampaignRecipient.objects.filter(
            campaign=campaign, state__in=ACTIVE_RECIPIENT_STATES
        ).count()
        result.active = active
        recent = (
            DialAttempt.objects.filter(campaign=campaign, created_at__gt=now - dt.timedelta(seconds=60))
            .exclude(state=AttemptState.ABANDONED)
            .count()
        )
        slots = min(campaign.max_concurrent_calls - active, campaign.max_calls_per_minute - recent)
        if slots <= 0:
            return
        budget_lock()
        free = budget_free(now=now)
        if free < slots:
            result.budget_limited = True
        slots = min(slots, free)
        if slots <= 0:
            return
        pool = _pool(campaign)
        scan_limit = max(slots * 4, 50)
        due = (
            CampaignRecipient.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("customer")
            .filter(campaign=campaign, state__in=DUE_STATES)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by(F("next_attempt_at").asc(nulls_first=True), "id")[:scan_limit]
        )
        for recipient in due:
            if slots <= 0:
                break
            verdict = _check_recipient(campaign=campaign, recipient=recipient, now=now)
            if not verdict.allowed:
                _apply_block(campaign=campaign, recipient=recipient, verdict=verdict, now=now, result=result)
                continue
            attempt_number = recipient.dial_attempts.count() + 1
            phone = pool[(recipient.pk + attempt_number) % len(pool)]
            attempt = DialAttempt.objects.create(
                idempotency_key=f"campaign:{campaign.pk}:recipient:{recipient.pk}:attempt:{attempt_number}",
                campaign=campaign,
                recipient=recipient,
                customer=recipient.customer,
                number=str(recipient.number),
                customer_name=recipient.name or recipient.customer.name,
                attempt_number=attempt_number,
                assistant=campaign.assistant,
                phone_number=phone,
                phone_number_vapi_id=phone.vapi_id,
                variables=recipient.variables or {},
            )
            decision_record(
                verdict=verdict,
                at=now,
                campaign=campaign,
                recipient=recipient,
                customer=recipient.customer,
                attempt=attempt,
            )
            recipient.state = RecipientState.DIALING
            recipient.next_attempt_at = None
            recipient.save(update_fields=["state", "next_attempt_at", "updated_at"])
            result.reserved.append(attempt.pk)
            slots -= 1
        if not result.reserved:
            _maybe_complete(campaign=campaign, now=now)
            result.state = campaign.state


def _apply_block(
    *,
    campaign: Campaign,
    recipient: CampaignRecipient,
    verdict: Verdict,
    now: dt.datetime,
    result: DispatchResult,
) -> None:
    decision_record(
        verdict=verdict, at=now, campaign=campaign, recipient=recipient, customer=recipient.customer
    )
    if verdict.retry_at is not None:
        recipient.next_attempt_at = verdict.retry_at
        result.deferred += 1
    else:
        recipient.state = (
            RecipientState.FAILED if verdict.rule == DecisionRule.MAX_ATTEMPTS else RecipientState.BLOCKED
        )
        recipient.next_attempt_at = None
        result.blocked += 1
    recipient.last_error = f"{verdict.rule}: {verdict.detail}"[:2000]
    recipient.save(update_fields=["state", "next_attempt_at", "last_error", "updated_at"])


def campaign_dispatch_due(*, campaign: Campaign, now: dt.datetime | None = None) -> DispatchResult:
    """Fill the campaign's free slots with due recipients; safe to run from many workers at once."""
    now = now or timezone.now()
    result = _dispatch_round(campaign=campaign, now=now)
    if result.reserved and not result.stopped_by:
        # A dispatcher that found us busy left its freed slot to us (module docstring).
        again = _dispatch_round(campaign=campaign, now=now)
        result.reserved += again.reserved
        result.dialed += again.dialed
        result.refused += again.refused
        result.released += again.released
        result.stopped_by = again.stopped_by
    return result


def _dispatch_round(*, campaign: Campaign, now: dt.datetime) -> DispatchResult:
    result = DispatchResult(campaign_id=campaign.pk)
    _reserve(campaign_id=campaign.pk, now=now, result=result)
    sent = attempts_send(attempt_ids=result.reserved)
    for attempt in sent.done:
        if attempt.state in (AttemptState.ACCEPTED, AttemptState.ENDED):
            result.dialed += 1
        elif attempt.state == AttemptState.REFUSED:
            result.refused += 1
    if sent.refused:
        result.stopped_by = DecisionRule.VAPI_REFUSED
        result.released = _release_rest(attempt_ids=sent.unsent)
    if result.reserved or result.blocked:
        log.info(
            "campaign.dispatch",
            campaign_id=campaign.pk,
            active=result.active,
            reserved=len(result.reserved),
            dialed=result.dialed,
            refused=result.refused,
            released=result.released,
            blocked=result.blocked,
            deferred=result.deferred,
        )
    return result


def _release_rest(*, attempt_ids: list[int]) -> int:
    """Vapi refused one call of this round: do not send the others; they wait for the hold."""
    due = budget_hold_until(now=timezone.now())
    released = 0
    for attempt in DialAttempt.objects.filter(pk__in=attempt_ids, state=AttemptState.RESERVED):
        if attempt_abandon(attempt=attempt, reason="Vapi refused an earlier call of this round.", due=due):
            released += 1
    return released
