"""A campaign (or single outbound) call ended: apply the outcome, check spend, refill the slot.

The first end event (a ``status-update`` ended, or the report) decides a provisional outcome so
the slot and the recipient move on at once; the end-of-call report decides the final one. When
the report disagrees (a status-update without ``endedReason``, a success evaluation the campaign
requires), the recipient is corrected and its retry rescheduled. A refusal by Vapi (the call
ended with a concurrency-limit reason) is not an attempt (``refusals``).

Effects run after the event's commit; if they never run (worker killed, database blip) the
sweeper in ``recovery.call_ends_repair`` applies them later, so nothing stays "in call".
"""

from __future__ import annotations

import datetime as dt
import functools

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calls.campaigns.selectors import campaigns_dispatchable
from calls.campaigns.services.outcomes import recipient_apply_outcome
from calls.campaigns.services.reached import campaign_call_outcome
from calls.campaigns.services.refusals import attempt_refuse, refusal_delay
from calls.campaigns.services.transitions import campaign_check_spend
from calls.enums import AttemptState, Direction, Outcome, RecipientState
from calls.models import Call, CampaignRecipient, DialAttempt

log = structlog.get_logger(__name__)

# States the recipient may hold after this attempt's provisional outcome (and so may be corrected).
CORRECTABLE = (RecipientState.RETRY, RecipientState.DONE, RecipientState.FAILED)


def _apply(*, recipient: CampaignRecipient, outcome: str, detail: str, now: dt.datetime, final: bool) -> None:
    recipient_apply_outcome(recipient=recipient, outcome=outcome, now=now, detail=detail)
    if not final and recipient.state == RecipientState.RETRY and recipient.next_attempt_at is not None:
        # Provisional: leave the report time to arrive and correct it before anyone dials again.
        grace = now + dt.timedelta(seconds=settings.OUTBOUND_REPORT_GRACE_SECONDS)
        if recipient.next_attempt_at < grace:
            recipient.next_attempt_at = grace
            recipient.save(update_fields=["next_attempt_at", "updated_at"])


def _is_latest(attempt: DialAttempt) -> bool:
    """The recipient's state still comes from this attempt (no newer one was reserved since)."""
    return not DialAttempt.objects.filter(
        recipient_id=attempt.recipient_id, attempt_number__gt=attempt.attempt_number
    ).exists()


def _correct(
    *, attempt: DialAttempt, call: Call, campaign_outcome: str, detail: str, now: dt.datetime
) -> None:
    """The report arrived after a provisional outcome: make the recipient follow the final one."""
    previous = attempt.outcome
    attempt.outcome = campaign_outcome
    attempt.outcome_final = True
    attempt.save(update_fields=["outcome", "outcome_final", "updated_at"])
    if campaign_outcome == previous or attempt.recipient_id is None or not _is_latest(attempt):
        return
    recipient = (
        CampaignRecipient.objects.select_for_update(of=("self",))
        .select_related("campaign", "customer")
        .get(pk=attempt.recipient_id)
    )
    if recipient.state not in CORRECTABLE:
        return
    log.info(
        "campaign.outcome.corrected",
        call_id=call.vapi_id,
        attempt_id=attempt.pk,
        provisional=previous,
        final=campaign_outcome,
    )
    if campaign_outcome == Outcome.REFUSED:
        delay = refusal_delay(recipient_id=recipient.pk, retry_after=None, now=now)
        recipient.attempts = max(recipient.attempts - 1, 0)
        recipient.state = RecipientState.RETRY if recipient.attempts else RecipientState.PENDING
        recipient.next_attempt_at = now + dt.timedelta(seconds=delay)
        recipient.last_outcome = campaign_outcome
        recipient.last_error = f"Vapi refused (not an attempt): {call.ended_reason}"[:2000]
        recipient.save()
        return
    _apply(recipient=recipient, outcome=campaign_outcome, detail=detail, now=now, final=True)


def call_ended_apply(*, call: Call) -> None:
    """Idempotent: the attempt row (locked) moves to ``ended`` once, and its outcome is corrected once
    when the report arrives; a second report changes nothing but re-checks the spend limit."""
    call = Call.objects.get(pk=call.pk)
    if call.direction != Direction.OUTBOUND:
        return  # only our own dials have attempts: an inbound or web call's end costs no lookup
    now = timezone.now()
    campaign_id: int | None = None
    spend_limited = False
    refused_attempt: int | None = None
    freed = False  # this event gave a slot back (a later report for the same call does not)
    with transaction.atomic():
        attempt = (
            DialAttempt.objects.select_for_update(of=("self",))
            .select_related("campaign")
            .filter(Q(call=call) | Q(vapi_call_id=call.vapi_id))
            .first()
        )
        if attempt is None:
            return
        campaign_id = attempt.campaign_id
        spend_limited = attempt.campaign is not None and attempt.campaign.spend_limit is not None
        outcome, shortfall = campaign_call_outcome(call=call, campaign=attempt.campaign)
        detail = shortfall or (call.ended_reason if outcome != Outcome.COMPLETED else "")
        if attempt.state == AttemptState.ACCEPTED and outcome == Outcome.REFUSED:
            refused_attempt = attempt.pk
        elif attempt.state == AttemptState.ACCEPTED:
            freed = True
            attempt.state = AttemptState.ENDED
            attempt.outcome = outcome
            attempt.outcome_final = call.has_final_report
            attempt.ended_at = call.ended_at or now
            attempt.save(update_fields=["state", "outcome", "outcome_final", "ended_at", "updated_at"])
            if attempt.recipient_id:
                recipient = (
                    CampaignRecipient.objects.select_for_update(of=("self",))
                    .select_related("campaign", "customer")
                    .get(pk=attempt.recipient_id)
                )
                if recipient.state in (RecipientState.IN_CALL, RecipientState.DIALING):
                    _apply(
                        recipient=recipient,
                        outcome=outcome,
                        detail=detail,
                        now=now,
                        final=call.has_final_report,
                    )
        elif attempt.state == AttemptState.ENDED and call.has_final_report and not attempt.outcome_final:
            _correct(attempt=attempt, call=call, campaign_outcome=outcome, detail=detail, now=now)
    if refused_attempt is not None:
        attempt_refuse(attempt_id=refused_attempt, error=f"Vapi ended the call: {call.ended_reason}.")
    if campaign_id is None:
        campaign_dispatch_enqueue_all()
        return
    if spend_limited:  # most campaigns have no limit: no query for them
        campaign_check_spend(campaign_id=campaign_id)
    if freed or refused_attempt is not None:
        # Refill the freed slot now, not at the next beat tick. A report arriving after the ended
        # status frees nothing: a dispatch for it would only queue behind the campaign lock.
        transaction.on_commit(lambda: campaign_dispatch_enqueue(campaign_id=campaign_id))


def campaign_dispatch_enqueue(*, campaign_id: int) -> None:
    """Refill freed slots now rather than at the next beat tick; a broker outage only delays it."""
    from calls.campaigns.tasks import campaign_dispatch

    try:
        campaign_dispatch.delay(campaign_id)
    except Exception as exc:  # noqa: BLE001 - the beat tick dispatches anyway
        log.warning("campaign.dispatch.enqueue_failed", campaign_id=campaign_id, error=str(exc))


def campaign_dispatch_enqueue_all() -> None:
    """A single call freed a slot of the org's budget: any running campaign may take it."""
    for campaign_id in campaigns_dispatchable():
        transaction.on_commit(functools.partial(campaign_dispatch_enqueue, campaign_id=campaign_id))
