"""Campaign tasks: thin shells over services. Beat runs ``campaigns_tick`` every few seconds.

Autodiscovered by ``voiceops.celery`` (``calls.campaigns``); the task names are the public
contract (beat entries and queued messages name them), not the module path.
"""

from __future__ import annotations

from celery import shared_task

from calls.campaigns.selectors import campaigns_dispatchable
from calls.campaigns.services.dispatch import campaign_dispatch_due
from calls.campaigns.services.ended import campaign_dispatch_enqueue
from calls.campaigns.services.recovery import dial_attempts_recover
from calls.models import Campaign


@shared_task(name="calls.campaign_dispatch", ignore_result=True, acks_late=True)
def campaign_dispatch(campaign_id: int) -> None:
    """Fill one campaign's free slots (also enqueued when one of its calls ends)."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is not None:
        campaign_dispatch_due(campaign=campaign)


@shared_task(name="calls.campaigns_tick", ignore_result=True)
def campaigns_tick() -> None:
    """Recover crashed attempts, then dispatch every running (or due scheduled) campaign."""
    dial_attempts_recover()
    for campaign_id in campaigns_dispatchable():
        campaign_dispatch_enqueue(campaign_id=campaign_id)
