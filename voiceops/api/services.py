"""Small writes the API needs that no domain area owns yet (tool switches).

Kept here rather than in the views so views stay thin; each is one transaction.
"""

from __future__ import annotations

from django.db import transaction

from calls.enums import CampaignState
from calls.models import Campaign
from voiceops.errors import InvalidState

DELETABLE_CAMPAIGN_STATES = {CampaignState.DRAFT, CampaignState.COMPLETED, CampaignState.CANCELLED}


def campaign_delete(*, campaign: Campaign) -> None:
    """Only campaigns that are not (or no longer) dialing may be deleted."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.state not in DELETABLE_CAMPAIGN_STATES:
            raise InvalidState(
                f"A {campaign.state} campaign cannot be deleted; cancel it first.", code="invalid_state"
            )
        campaign.delete()
