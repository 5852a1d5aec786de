"""The dispatcher's pre-dial checks, each stored as a decision; the Vapi request it sends."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
import time_machine
from django.utils import timezone

from calls.campaigns.services.control import outbound_kill_switch_set
from calls.campaigns.services.dispatch import campaign_dispatch_due
from calls.enums import AttemptState, CampaignState, DecisionRule, RecipientState
from calls.models import Call, DialAttempt, DispatchDecision
from tests.calls.campaign_support import FakeVapi, add_recipient, make_campaign

pytestmark = pytest.mark.django_db

# 2026-11-25 is PST (UTC-8) in Los Angeles and EST (UTC-5) in New York.
LA_0759 = dt.datetime(2026, 11, 25, 15, 59, tzinfo=dt.UTC)
LA_0800 = dt.datetime(2026, 11, 25, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def vapi():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeVapi(rsps)


def test_los_angeles_recipient_not_dialed_at_0759_local_and_dialed_at_0800(vapi):
    campaign = make_campaign()
    recipient = add_recipient(campaign, time_zone="America/Los_Angeles")
    with time_machine.travel(LA_0759, tick=False):
        result = campaign_dispatch_due(campaign=campaign)
    assert result.reserved == [] and vapi.payloads == []
    recipient.refresh_from_db()
    assert recipient.state == RecipientState.PENDING
    assert recipient.next_attempt_at == LA_0800  # parked until the window opens, not rescanned
    decision = DispatchDecision.objects.get(recipient=recipient)
    assert (decision.rule, decision.allowed, decision.at) == (DecisionRule.CALLING_WINDOW, False, LA_0759)
    assert "07:59 in America/Los_Angeles" in decision.detail

    with time_machine.travel(LA_0800, tick=False):
        result = campaign_dispatch_due(campaign=campaign)
    assert len(vapi.payloads) == 1
    recipient.refresh_from_db()
    assert recipient.state == RecipientState.IN_CALL and recipient.attempts == 1
    allowed = DispatchDecision.objects.filter(recipient=recipient, allowed=True).get()
    assert allowed.rule == DecisionRule.ALLOWED and allowed.at == LA_0800
    assert "08:00 in America/Los_Angeles" in allowed.detail


def test_window_is_per_recipient_time_zone(vapi):
    """At 16:00 UTC it is 11:00 in New York and 08:00 in LA, but 01:00 next day in Tokyo."""
    campaign = make_campaign()
    ny = add_recipient(campaign, time_zone="America/New_York")
    tokyo = add_recipient(campaign, time_zone="Asia/Tokyo")
    with time_machine.travel(LA_0800, tick=False):
        campaign_dispatch_due(campaign=campaign)
    ny.refresh_from_db()
    tokyo.refresh_from_db()
    assert ny.state == RecipientState.IN_CALL
    assert tokyo.state == RecipientState.PENDING
    assert tokyo.next_attempt_at == dt.datetime(2026, 11, 25, 23, 0, tzinfo=dt.UTC)  # 08:00 JST


def test_window_end_is_exclusive_and_time_zone_inferred_from_number(vapi):
    campaign = make_campaign()
    recipient = add_recipient(campaign, time_zone="", number="+13125550100")  # Chicago, no zone given
    with time_machine.travel(dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC), tick=False):  # 21:00 CST
        campaign_dispatch_due(campaign=campaign)
    decision = DispatchDecision.objects.get(recipient=recipient)
    assert decision.rule == DecisionRule.CALLING_WINDOW and "America/Chicago" in decision.detail
    assert vapi.payloads == []


def test_do_not_call_blocks_and_is_recorded(vapi):
    campaign = make_campaign()
    recipient = add_recipient(
        campaign,
        do_not_call=True,
        do_not_call_at=timezone.now(),
        do_not_call_source="tool",
        do_not_call_reason="Asked to stop calling",
    )
    with time_machine.travel(LA_0800, tick=False):
        campaign_dispatch_due(campaign=campaign)
    assert vapi.payloads == []
    recipient.refresh_from_db()
    assert recipient.state == RecipientState.BLOCKED
    decision = DispatchDecision.objects.get(recipient=recipient)
    assert (decision.rule, decision.allowed) == (DecisionRule.DO_NOT_CALL, False)
    assert "tool" in decision.detail and "Asked to stop calling" in decision.detail


def test_consent_required_blocks_customer_without_consent(vapi):
    campaign = make_campaign(requires_consent=True)
    without = add_recipient(campaign)
    with_consent = add_recipient(campaign, consent=True, consent_at=timezone.now(), consent_source="web form")
    with time_machine.travel(LA_0800, tick=False):
        campaign_dispatch_due(campaign=campaign)
    assert [p["customer"]["number"] for p in vapi.payloads] == [str(with_consent.number)]
    without.refresh_from_db()
    assert without.state == RecipientState.BLOCKED
    assert DispatchDecision.objects.get(recipient=without).rule == DecisionRule.CONSENT


def test_kill_switch_stops_dispatch_and_is_recorded_once(vapi):
    campaign = make_campaign()
    add_recipient(campaign)
    with time_machine.travel(LA_0800, tick=False):
        outbound_kill_switch_set(paused=True, by="ops@example.com", reason="carrier incident")
        campaign_dispatch_due(campaign=campaign)
        campaign_dispatch_due(campaign=campaign)
    assert vapi.payloads == []
    blocks = DispatchDecision.objects.filter(campaign=campaign, rule=DecisionRule.KILL_SWITCH)
    assert blocks.count() == 1 and "ops@example.com" in blocks.get().detail
    with time_machine.travel(LA_0800 + dt.timedelta(minutes=1), tick=False):
        outbound_kill_switch_set(paused=False, by="ops@example.com")  # enqueues a dispatch (eager)
        campaign_dispatch_due(campaign=campaign)
    assert len(vapi.payloads) == 1


def test_payload_follows_the_contract_and_call_row_is_linked(vapi):
    campaign = make_campaign()
    recipient = add_recipient(campaign, name="Dana Whitfield")
    recipient.variables = {"orderNumber": "NW-48213", "customerName": "Dana"}
    recipient.save()
    with time_machine.travel(LA_0800, tick=False):
        campaign_dispatch_due(campaign=campaign)
    (payload,) = vapi.payloads
    attempt = DialAttempt.objects.get(recipient=recipient)
    assert payload == {
        "assistantId": campaign.assistant.vapi_id,
        "phoneNumberId": campaign.phone_number.vapi_id,
        "customer": {"number": str(recipient.number), "name": "Dana Whitfield"},
        "name": f"voiceops-attempt-{attempt.pk}",
        "assistantOverrides": {
            "variableValues": {"orderNumber": "NW-48213", "customerName": "Dana"},
            # Vapi's detector, on for campaign calls (Vapi leaves it off by default).
            "voicemailDetection": {"provider": "vapi", "type": "audio", "beepMaxAwaitSeconds": 30},
        },
    }
    call = Call.objects.get(vapi_id=attempt.vapi_call_id)
    assert attempt.state == AttemptState.ACCEPTED and attempt.call == call
    assert (call.campaign, call.campaign_recipient, call.assistant_version) == (campaign, recipient, 7)
    assert call.customer == recipient.customer and call.phone_number == campaign.phone_number
    assert attempt.idempotency_key == f"campaign:{campaign.pk}:recipient:{recipient.pk}:attempt:1"


def test_concurrency_and_per_minute_caps(vapi, django_capture_on_commit_callbacks):
    campaign = make_campaign(max_concurrent_calls=3, max_calls_per_minute=5)
    for _ in range(10):
        add_recipient(campaign)
    with time_machine.travel(LA_0800, tick=False):
        assert len(campaign_dispatch_due(campaign=campaign).reserved) == 3
        assert campaign_dispatch_due(campaign=campaign).reserved == []  # cap full
        # Two calls end: two slots free, but only 2 left in this minute's budget of 5.
        from tests.calls.campaign_support import end_call

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            for call in Call.objects.filter(campaign=campaign)[:3]:
                end_call(call, "customer-ended-call")
        assert callbacks  # each end enqueued a refill dispatch
    assert DialAttempt.objects.filter(campaign=campaign).count() == 5  # 3 + refill of 2 (rate cap)
    with time_machine.travel(LA_0800 + dt.timedelta(seconds=61), tick=False):
        campaign_dispatch_due(campaign=campaign)
    assert DialAttempt.objects.filter(campaign=campaign).count() == 6  # concurrency 3 again


def test_paused_or_not_started_campaign_dials_nobody(vapi):
    campaign = make_campaign(state=CampaignState.PAUSED)
    add_recipient(campaign)
    with time_machine.travel(LA_0800, tick=False):
        assert campaign_dispatch_due(campaign=campaign).stopped_by == DecisionRule.CAMPAIGN_STATE
    scheduled = make_campaign(state=CampaignState.SCHEDULED, starts_at=LA_0800 + dt.timedelta(hours=1))
    add_recipient(scheduled)
    with time_machine.travel(LA_0800, tick=False):
        campaign_dispatch_due(campaign=scheduled)
    assert vapi.payloads == []
    with time_machine.travel(LA_0800 + dt.timedelta(hours=1), tick=False):
        campaign_dispatch_due(campaign=scheduled)
    scheduled.refresh_from_db()
    assert scheduled.state == CampaignState.RUNNING and len(vapi.payloads) == 1


def test_end_time_passed_completes_campaign_and_cancels_waiting(vapi):
    campaign = make_campaign(ends_at=LA_0800 - dt.timedelta(minutes=1))
    recipient = add_recipient(campaign)
    with time_machine.travel(LA_0800, tick=False):
        campaign_dispatch_due(campaign=campaign)
    campaign.refresh_from_db()
    recipient.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED and recipient.state == RecipientState.CANCELLED
    assert DispatchDecision.objects.filter(campaign=campaign, rule=DecisionRule.CAMPAIGN_ENDED).exists()
    assert vapi.payloads == []


def test_per_customer_cap_across_campaigns(vapi, settings):
    settings.OUTBOUND_CUSTOMER_MAX_ATTEMPTS = 1
    first = make_campaign()
    recipient = add_recipient(first)
    second = make_campaign()
    from tests.factories import CampaignRecipientFactory

    other = CampaignRecipientFactory(
        campaign=second, customer=recipient.customer, time_zone="America/New_York"
    )
    with time_machine.travel(LA_0800, tick=False):
        campaign_dispatch_due(campaign=first)
        campaign_dispatch_due(campaign=second)
    assert len(vapi.payloads) == 1
    decision = DispatchDecision.objects.get(recipient=other)
    assert decision.rule == DecisionRule.CUSTOMER_BUSY  # the first call is still live
    from tests.calls.campaign_support import end_call

    with time_machine.travel(LA_0800 + dt.timedelta(minutes=2), tick=False):
        end_call(Call.objects.get(campaign=first), "customer-ended-call")
        campaign_dispatch_due(campaign=second)
    assert len(vapi.payloads) == 1
    latest = DispatchDecision.objects.filter(recipient=other).first()
    assert latest.rule == DecisionRule.CUSTOMER_CAP and "cap 1" in latest.detail
    other.refresh_from_db()
    assert other.next_attempt_at == LA_0800 + dt.timedelta(hours=24)
