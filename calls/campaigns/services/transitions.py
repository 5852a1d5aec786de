"""The campaign, recipient and attempt state changes that several services share.

A leaf: it imports models, the decision ledger (``checks``) and selectors, and no other service,
so control, the dispatcher, dialing, the end-of-call path and recovery can all import it at module
level (they used to reach each other through in-function imports, a ring of seven modules).
"""

from __future__ import annotations

import datetime as dt

import structlog
from django.db import transaction
from django.utils import timezone

from calls.campaigns.selectors import campaign_spent
from calls.campaigns.services.checks import Verdict, decision_record
from calls.enums import AttemptState, CampaignState, DecisionRule, RecipientState
from calls.models import Campaign, CampaignRecipient, DialAttempt

log = structlog.get_logger(__name__)


def campaign_set_state(
    *, campaign: Campaign, state: str, reason: str = "", now: dt.datetime | None = None
) -> Campaign:
    now = now or timezone.now()
    campaign.state = state
    campaign.state_reason = reason[:500]
    campaign.state_changed_at = now
    campaign.save(update_fields=["state", "state_reason", "state_changed_at", "updated_at"])
    log.info("campaign.state", campaign_id=campaign.pk, state=state, reason=reason)
    return campaign


def attempt_abandon(
    *,
    attempt: DialAttempt,
    reason: str,
    blocked: bool = False,
    cancelled: bool = False,
    due: dt.datetime | None = None,
) -> bool:
    """A reserved attempt that will never be sent. The recipient is due again (or blocked/cancelled)."""
    now = timezone.now()
    with transaction.atomic():
        changed = DialAttempt.objects.filter(pk=attempt.pk, state=AttemptState.RESERVED).update(
            state=AttemptState.ABANDONED, error=reason[:2000], ended_at=now, updated_at=now
        )
        if not changed or attempt.recipient_id is None:
            return bool(changed)
        recipient = CampaignRecipient.objects.select_for_update().get(pk=attempt.recipient_id)
        if recipient.state == RecipientState.DIALING:
            if blocked or cancelled:
                recipient.state = RecipientState.BLOCKED if blocked else RecipientState.CANCELLED
                recipient.next_attempt_at = None
            else:
                recipient.state = RecipientState.RETRY if recipient.attempts else RecipientState.PENDING
                recipient.next_attempt_at = due or now
            recipient.last_error = reason[:2000]
            recipient.save(update_fields=["state", "next_attempt_at", "last_error", "updated_at"])
    return True


def campaign_check_spend(*, campaign_id: int) -> bool:
    """Pause a running campaign whose summed call cost reached its limit. True when it paused."""
    # Most campaigns have no limit: answer without taking the campaign lock the dispatcher uses.
    if not Campaign.objects.filter(pk=campaign_id, spend_limit__isnull=False).exists():
        return False
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(of=("self",)).get(pk=campaign_id)
        if campaign.spend_limit is None or campaign.state not in (
            CampaignState.RUNNING,
            CampaignState.SCHEDULED,
        ):
            return False
        spent = campaign_spent(campaign=campaign)
        if spent < float(campaign.spend_limit):
            return False
        now = timezone.now()
        verdict = Verdict(DecisionRule.SPEND_LIMIT, False, f"Spent {spent:.2f} of {campaign.spend_limit}.")
        decision_record(verdict=verdict, at=now, campaign=campaign)
        campaign_set_state(campaign=campaign, state=CampaignState.PAUSED, reason=verdict.detail, now=now)
    return True
