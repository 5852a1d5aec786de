"""Start, pause, resume, cancel: effective at the next dispatch; calls in progress finish."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
import time_machine

from calls.campaigns.services.control import (
    campaign_cancel,
    campaign_pause,
    campaign_resume,
    campaign_start,
    outbound_kill_switch_set,
)
from calls.campaigns.services.dispatch import campaign_dispatch_due
from calls.enums import CampaignState, RecipientState
from calls.models import Call, OutboundSwitch
from tests.calls.campaign_support import FakeVapi, add_recipient, end_call, make_campaign
from tests.factories import AssistantFactory, CampaignFactory
from voiceops.errors import InvalidState

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)


@pytest.fixture
def vapi():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeVapi(rsps)


def test_start_requires_pushed_assistant_number_and_recipients():
    campaign = CampaignFactory(assistant=AssistantFactory(vapi_id=None))
    with pytest.raises(InvalidState) as exc:
        campaign_start(campaign=campaign)
    assert "not been pushed" in exc.value.message and "no recipients" in exc.value.message
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT


def test_start_dispatches_and_scheduled_start_waits(vapi):
    campaign = make_campaign(state=CampaignState.DRAFT)
    add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_start(campaign=campaign, by="ana")  # on commit -> dispatch (eager celery)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.RUNNING and "ana" in campaign.state_reason

    later = make_campaign(state=CampaignState.DRAFT, starts_at=NOON + dt.timedelta(hours=2))
    add_recipient(later)
    with time_machine.travel(NOON, tick=False):
        campaign_start(campaign=later)
    later.refresh_from_db()
    assert later.state == CampaignState.SCHEDULED


def test_pause_takes_effect_at_next_dispatch_and_resume_continues(vapi):
    campaign = make_campaign(max_concurrent_calls=1)
    first, second = add_recipient(campaign), add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        campaign_pause(campaign=campaign, by="ana")
        end_call(Call.objects.get(campaign_recipient=first), "customer-ended-call")
        campaign_dispatch_due(campaign=campaign)
        second.refresh_from_db()
        assert second.state == RecipientState.PENDING and len(vapi.payloads) == 1
        with pytest.raises(InvalidState):
            campaign_pause(campaign=campaign)
        campaign_resume(campaign=campaign, by="ana")
        campaign_dispatch_due(campaign=campaign)
    second.refresh_from_db()
    assert second.state == RecipientState.IN_CALL and len(vapi.payloads) == 2


def test_cancel_stops_waiting_recipients_but_lets_live_calls_finish(vapi):
    campaign = make_campaign(max_concurrent_calls=1)
    live, waiting = add_recipient(campaign), add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        campaign_cancel(campaign=campaign, by="ana")
        waiting.refresh_from_db()
        assert waiting.state == RecipientState.CANCELLED
        end_call(Call.objects.get(campaign_recipient=live), "customer-busy")  # would normally retry
        campaign_dispatch_due(campaign=campaign)
    live.refresh_from_db()
    assert live.state == RecipientState.CANCELLED and len(vapi.payloads) == 1
    with pytest.raises(InvalidState):
        campaign_resume(campaign=campaign)
    with pytest.raises(InvalidState):
        campaign_cancel(campaign=campaign)


def test_resume_refused_while_over_spend_limit():
    campaign = make_campaign(state=CampaignState.PAUSED, spend_limit="1.00")
    recipient = add_recipient(campaign)
    Call.objects.create(vapi_id="c-1", campaign=campaign, campaign_recipient=recipient, cost="1.20")
    with pytest.raises(InvalidState) as exc:
        campaign_resume(campaign=campaign)
    assert "raise the limit" in exc.value.message


def test_kill_switch_records_who_and_when():
    with time_machine.travel(NOON, tick=False):
        outbound_kill_switch_set(paused=True, by="ops@example.com", reason="incident 42")
    switch = OutboundSwitch.objects.get()
    assert (switch.paused, switch.changed_by, switch.changed_at, switch.reason) == (
        True,
        "ops@example.com",
        NOON,
        "incident 42",
    )
