"""Campaign lifecycle (start, pause, resume, cancel) and the global outbound kill switch.

A pause or cancel takes effect at dial time: attempts reserved but not yet sent are released in
the same transaction, and ``attempt_dial`` re-reads the campaign's state under a share lock right
before it marks an attempt as sent, so no call leaves after the pause or cancel commits.
Calls already ringing are left to finish (hanging up on people mid-sentence is worse).
"""

from __future__ import annotations

from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from calls.campaigns.selectors import campaign_spent, campaigns_dispatchable
from calls.campaigns.services.checks import Verdict, decision_record
from calls.campaigns.services.ended import campaign_dispatch_enqueue
from calls.campaigns.services.transitions import attempt_abandon, campaign_set_state
from calls.enums import AttemptState, CampaignState, DecisionRule, RecipientState
from calls.models import Campaign, CampaignRecipient, DialAttempt, OutboundSwitch
from voiceops.errors import InvalidState
from voiceops.writes import row_create, row_update

log = structlog.get_logger(__name__)

TERMINAL = (CampaignState.COMPLETED, CampaignState.CANCELLED)
DELETABLE_CAMPAIGN_STATES = {CampaignState.DRAFT, CampaignState.COMPLETED, CampaignState.CANCELLED}


def _locked(campaign: Campaign) -> Campaign:
    return (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("assistant", "phone_number")
        .get(pk=campaign.pk)
    )


def _after_commit_dispatch(campaign_id: int) -> None:
    transaction.on_commit(lambda: campaign_dispatch_enqueue(campaign_id=campaign_id))


def campaign_start(*, campaign: Campaign, by: str = "") -> Campaign:
    """draft/scheduled -> running (or scheduled when ``starts_at`` is still ahead)."""
    with transaction.atomic():
        locked = _locked(campaign)
        if locked.state not in (CampaignState.DRAFT, CampaignState.SCHEDULED):
            raise InvalidState(f"A {locked.get_state_display().lower()} campaign cannot be started.")
        problems = []
        if not locked.assistant.vapi_id:
            problems.append("the assistant has not been pushed to Vapi")
        if (
            not (locked.phone_number and locked.phone_number.vapi_id)
            and not locked.phone_numbers.exclude(vapi_id__isnull=True).exclude(vapi_id="").exists()
        ):
            problems.append("no phone number with a Vapi id is set")
        if not CampaignRecipient.objects.filter(campaign=locked).exists():
            problems.append("it has no recipients")
        if problems:
            raise InvalidState(f"The campaign cannot start: {'; '.join(problems)}.")
        now = timezone.now()
        if locked.ends_at is not None and locked.ends_at <= now:
            raise InvalidState("The campaign's end time has already passed.")
        if locked.starts_at is not None and locked.starts_at > now:
            campaign_set_state(
                campaign=locked,
                state=CampaignState.SCHEDULED,
                reason=f"Started by {by or 'unknown'}; waits for its start time.",
                now=now,
            )
        else:
            campaign_set_state(
                campaign=locked, state=CampaignState.RUNNING, reason=f"Started by {by or 'unknown'}.", now=now
            )
            _after_commit_dispatch(locked.pk)
    return locked


def _release_reserved(*, campaign: Campaign, cancelled: bool, reason: str) -> int:
    """Attempts of this campaign reserved but not sent: never sent now (campaign row locked)."""
    released = 0
    for attempt in DialAttempt.objects.filter(campaign=campaign, state=AttemptState.RESERVED):
        released += int(attempt_abandon(attempt=attempt, reason=reason, cancelled=cancelled))
    return released


def campaign_pause(*, campaign: Campaign, by: str = "") -> Campaign:
    with transaction.atomic():
        locked = _locked(campaign)
        if locked.state not in (CampaignState.RUNNING, CampaignState.SCHEDULED):
            raise InvalidState(f"A {locked.get_state_display().lower()} campaign cannot be paused.")
        campaign_set_state(
            campaign=locked, state=CampaignState.PAUSED, reason=f"Paused by {by or 'unknown'}."
        )
        _release_reserved(campaign=locked, cancelled=False, reason="Campaign paused before this was sent.")
    return locked


def campaign_resume(*, campaign: Campaign, by: str = "") -> Campaign:
    with transaction.atomic():
        locked = _locked(campaign)
        if locked.state != CampaignState.PAUSED:
            raise InvalidState(f"A {locked.get_state_display().lower()} campaign cannot be resumed.")
        if locked.spend_limit is not None:
            spent = campaign_spent(campaign=locked)
            if spent >= float(locked.spend_limit):
                raise InvalidState(
                    f"The campaign has spent {spent:.2f} of its {locked.spend_limit} limit; "
                    "raise the limit first."
                )
        campaign_set_state(
            campaign=locked, state=CampaignState.RUNNING, reason=f"Resumed by {by or 'unknown'}."
        )
        _after_commit_dispatch(locked.pk)
    return locked


def campaign_cancel(*, campaign: Campaign, by: str = "") -> Campaign:
    """Stops for good: waiting recipients are cancelled; calls in progress finish normally."""
    with transaction.atomic():
        locked = _locked(campaign)
        if locked.state in TERMINAL:
            raise InvalidState(f"The campaign is already {locked.get_state_display().lower()}.")
        now = timezone.now()
        CampaignRecipient.objects.filter(
            campaign=locked, state__in=[RecipientState.PENDING, RecipientState.RETRY]
        ).update(
            state=RecipientState.CANCELLED,
            next_attempt_at=None,
            last_error="Campaign cancelled.",
            updated_at=now,
        )
        campaign_set_state(
            campaign=locked, state=CampaignState.CANCELLED, reason=f"Cancelled by {by or 'unknown'}.", now=now
        )
        _release_reserved(campaign=locked, cancelled=True, reason="Campaign cancelled before this was sent.")
    return locked


def campaign_create(*, data: dict[str, Any]) -> Campaign:
    """A new campaign from validated fields (the API's serializer validates, this writes)."""
    return row_create(Campaign, data)


def campaign_update(*, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    """Change the given fields only (``row_update``): a pause made meanwhile is not undone."""
    return row_update(campaign, data)


def campaign_delete(*, campaign: Campaign) -> None:
    """Only campaigns that are not (or no longer) dialing may be deleted."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.state not in DELETABLE_CAMPAIGN_STATES:
            raise InvalidState(
                f"A {campaign.state} campaign cannot be deleted; cancel it first.", code="invalid_state"
            )
        campaign.delete()


def outbound_kill_switch_set(*, paused: bool, by: str, reason: str = "") -> OutboundSwitch:
    """The global "pause all outbound" switch. Dispatchers and single calls check it before each dial."""
    now = timezone.now()
    with transaction.atomic():
        switch, _ = OutboundSwitch.objects.select_for_update().get_or_create(pk=1)
        switch.paused = paused
        switch.changed_by = by[:150]
        switch.changed_at = now
        switch.reason = reason[:500]
        switch.save()
        decision_record(
            verdict=Verdict(
                DecisionRule.KILL_SWITCH if paused else DecisionRule.ALLOWED,
                not paused,
                f"Outbound {'paused' if paused else 'resumed'} by {by or 'unknown'}. {reason}".strip(),
            ),
            at=now,
        )
    log.warning("outbound.kill_switch", paused=paused, by=by)
    if not paused:
        for campaign_id in campaigns_dispatchable():
            _after_commit_dispatch(campaign_id)
    return switch
