"""Campaign tasks: thin shells over services. Beat runs ``campaigns_tick`` every few seconds."""

from __future__ import annotations

from celery import shared_task

from calls.models import Campaign


@shared_task(name="calls.campaign_dispatch", ignore_result=True, acks_late=True)
def campaign_dispatch(campaign_id: int) -> None:
    """Fill one campaign's free slots (also enqueued when one of its calls ends)."""
    from calls.services.campaigns import campaign_dispatch_due

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is not None:
        campaign_dispatch_due(campaign=campaign)


@shared_task(name="calls.campaigns_tick", ignore_result=True)
def campaigns_tick() -> None:
    """Recover crashed attempts, then dispatch every running (or due scheduled) campaign."""
    from calls.services.campaigns import campaigns_dispatchable, dial_attempts_recover
    from calls.services.campaigns.ended import campaign_dispatch_enqueue

    dial_attempts_recover()
    for campaign_id in campaigns_dispatchable():
        campaign_dispatch_enqueue(campaign_id=campaign_id)
