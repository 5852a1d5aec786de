"""A campaign (or single outbound) call ended: apply the outcome, check spend, refill the slot."""

from __future__ import annotations

import structlog
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calls.enums import AttemptState, Outcome, RecipientState
from calls.models import Call, CampaignRecipient, DialAttempt
from calls.outcomes import outcome_for_ended_reason
from calls.services.campaigns.outcomes import recipient_apply_outcome

log = structlog.get_logger(__name__)


def call_ended_apply(*, call: Call) -> None:
    """Idempotent: the attempt row (locked) moves to ``ended`` once; a second report changes nothing
    but still re-checks the spend limit, because the cost usually arrives with the later report."""
    call = Call.objects.get(pk=call.pk)
    now = timezone.now()
    campaign_id: int | None = None
    with transaction.atomic():
        attempt = (
            DialAttempt.objects.select_for_update(of=("self",))
            .filter(Q(call=call) | Q(vapi_call_id=call.vapi_id))
            .first()
        )
        if attempt is None:
            return
        campaign_id = attempt.campaign_id
        if attempt.state == AttemptState.ACCEPTED:
            outcome = call.outcome or outcome_for_ended_reason(call.ended_reason) or Outcome.OTHER
            attempt.state = AttemptState.ENDED
            attempt.outcome = outcome
            attempt.ended_at = call.ended_at or now
            attempt.save(update_fields=["state", "outcome", "ended_at", "updated_at"])
            if attempt.recipient_id:
                recipient = (
                    CampaignRecipient.objects.select_for_update(of=("self",))
                    .select_related("campaign")
                    .get(pk=attempt.recipient_id)
                )
                if recipient.state in (RecipientState.IN_CALL, RecipientState.DIALING):
                    recipient_apply_outcome(
                        recipient=recipient,
                        outcome=outcome,
                        now=now,
                        detail=call.ended_reason if outcome != Outcome.COMPLETED else "",
                    )
    if campaign_id is None:
        return
    from calls.services.campaigns.control import campaign_check_spend

    campaign_check_spend(campaign_id=campaign_id)
    transaction.on_commit(lambda: campaign_dispatch_enqueue(campaign_id=campaign_id))


def campaign_dispatch_enqueue(*, campaign_id: int) -> None:
    """Refill freed slots now rather than at the next beat tick; a broker outage only delays it."""
    from calls.tasks_campaigns import campaign_dispatch

    try:
        campaign_dispatch.delay(campaign_id)
    except Exception as exc:  # noqa: BLE001 - the beat tick dispatches anyway
        log.warning("campaign.dispatch.enqueue_failed", campaign_id=campaign_id, error=str(exc))
