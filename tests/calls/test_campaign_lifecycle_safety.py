"""Pause and cancel at dial time; the org budget shared by campaigns; the report decides the outcome;
reconciliation backs off; the campaign decides what counts as reached."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
import time_machine

from calls.campaigns.services.budget import budget_usage
from calls.campaigns.services.control import campaign_cancel, campaign_pause
from calls.campaigns.services.dispatch import campaign_dispatch_due
from calls.campaigns.services.recovery import dial_attempts_recover
from calls.enums import AttemptState, CampaignState, RecipientState
from calls.models import Call, Campaign, DialAttempt
from tests.calls.campaign_support import FakeVapi, add_recipient, end_call, make_campaign

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)  # noon in New York


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# --- pause / cancel at dial time ------------------------------------------------------------
@pytest.mark.parametrize("action", ["cancel", "pause"])
def test_cancel_or_pause_during_a_round_places_no_call_after_it(rsps, action):
    campaign = make_campaign(max_concurrent_calls=4)
    recipients = [add_recipient(campaign) for _ in range(4)]

    def stop_after_first(payload):
        if len(vapi.created) == 0:  # while Vapi answers the first POST, ops staff press the button
            stop = campaign_cancel if action == "cancel" else campaign_pause
            stop(campaign=Campaign.objects.get(pk=campaign.pk), by="ops")

    vapi = FakeVapi(rsps, on_create=stop_after_first)
    with time_machine.travel(NOON, tick=False):
        result = campaign_dispatch_due(campaign=campaign)
    assert len(result.reserved) == 4
    assert len(vapi.payloads) == 1  # nothing was POSTed after the cancel/pause committed
    states = sorted(DialAttempt.objects.values_list("state", flat=True))
    assert states == sorted([AttemptState.ACCEPTED] + [AttemptState.ABANDONED] * 3)
    expected = RecipientState.CANCELLED if action == "cancel" else RecipientState.PENDING
    for recipient in recipients[1:]:
        recipient.refresh_from_db()
        assert recipient.state == expected and recipient.attempts == 0
    with time_machine.travel(NOON + dt.timedelta(minutes=1), tick=False):
        assert campaign_dispatch_due(campaign=campaign).reserved == []
    assert len(vapi.payloads) == 1


# --- one org budget -------------------------------------------------------------------------
def test_two_campaigns_share_the_org_budget_less_the_inbound_reserve(rsps, settings):
    settings.VAPI_CONCURRENCY_LIMIT = 10
    settings.OUTBOUND_INBOUND_RESERVE = 2
    vapi = FakeVapi(rsps)
    first = make_campaign(max_concurrent_calls=6)
    second = make_campaign(max_concurrent_calls=6)
    for campaign in (first, second):
        for _ in range(6):
            add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        assert len(campaign_dispatch_due(campaign=first).reserved) == 6
        result = campaign_dispatch_due(campaign=second)
    assert len(result.reserved) == 2 and result.budget_limited  # 10 - 2 reserved for inbound = 8
    assert len(vapi.payloads) == 8
    usage = budget_usage()
    assert (usage.budget, usage.in_use, usage.free) == (8, 8, 0)
    # One call of the first campaign ends: its slot is free for whichever campaign comes next.
    with time_machine.travel(NOON + dt.timedelta(minutes=2), tick=False):
        end_call(Call.objects.filter(campaign=first).first(), "customer-ended-call")
        assert len(campaign_dispatch_due(campaign=second).reserved) == 1
    assert budget_usage().in_use == 8


def test_live_inbound_calls_beyond_the_reserve_shrink_the_outbound_budget(rsps, settings):
    from tests.factories import CallFactory

    settings.VAPI_CONCURRENCY_LIMIT = 10
    settings.OUTBOUND_INBOUND_RESERVE = 2
    FakeVapi(rsps)
    campaign = make_campaign(max_concurrent_calls=10)
    for _ in range(10):
        add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        for _ in range(5):
            CallFactory(direction="inbound", status="in-progress")
        assert len(campaign_dispatch_due(campaign=campaign).reserved) == 5


# --- the report decides the outcome -----------------------------------------------------------
def test_provisional_outcome_without_reason_is_corrected_by_the_report(rsps):
    FakeVapi(rsps)
    campaign = make_campaign()
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        call = Call.objects.get(campaign_recipient=recipient)
        # status-update ended without endedReason: provisional "other" -> failed group, retry later.
        end_call(call, "", final=False)
    recipient.refresh_from_db()
    assert recipient.state == RecipientState.RETRY and recipient.last_outcome == "other"
    with time_machine.travel(NOON + dt.timedelta(seconds=20), tick=False):
        end_call(call, "customer-ended-call", final=True)  # the report: a real conversation
    recipient.refresh_from_db()
    assert (recipient.state, recipient.last_outcome, recipient.next_attempt_at) == (
        RecipientState.DONE,
        "completed",
        None,
    )
    attempt = DialAttempt.objects.get(recipient=recipient)
    assert attempt.outcome == "completed" and attempt.outcome_final


def test_report_reschedules_the_retry_for_its_outcome_group(rsps):
    FakeVapi(rsps)
    campaign = make_campaign(retry_policy={"voicemail": {"retry": True, "delay_minutes": 240}})
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        call = Call.objects.get(campaign_recipient=recipient)
        end_call(call, "", final=False)
    recipient.refresh_from_db()
    assert recipient.next_attempt_at == NOON + dt.timedelta(minutes=60)  # failed group (default)
    later = NOON + dt.timedelta(seconds=30)
    with time_machine.travel(later, tick=False):
        end_call(call, "voicemail", final=True)
    recipient.refresh_from_db()
    assert (recipient.state, recipient.last_outcome) == (RecipientState.RETRY, "voicemail")
    assert recipient.next_attempt_at == later + dt.timedelta(minutes=240)


def test_a_provisional_retry_waits_for_the_report(rsps, settings):
    settings.OUTBOUND_REPORT_GRACE_SECONDS = 120
    FakeVapi(rsps)
    campaign = make_campaign(retry_policy={"busy": {"retry": True, "delay_minutes": 0}})
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        end_call(Call.objects.get(campaign_recipient=recipient), "customer-busy", final=False)
    recipient.refresh_from_db()
    assert recipient.next_attempt_at == NOON + dt.timedelta(seconds=120)


def test_sweeper_applies_effects_a_lost_hook_never_did(rsps, settings):
    settings.OUTBOUND_STALL_REPAIR_SECONDS = 15
    FakeVapi(rsps)
    campaign = make_campaign()
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        # The call's end committed, but its effects never ran (no hook call here).
        Call.objects.filter(campaign_recipient=recipient).update(
            status="ended",
            ended_reason="customer-busy",
            outcome="busy",
            ended_at=NOON,
            has_final_report=True,
        )
        assert budget_usage().in_use == 0  # the slot is already free
        assert dial_attempts_recover()["repaired"] == 0  # too fresh: the hook may still run
    with time_machine.travel(NOON + dt.timedelta(seconds=16), tick=False):
        assert dial_attempts_recover()["repaired"] == 1
    recipient.refresh_from_db()
    assert (recipient.state, recipient.last_outcome) == (RecipientState.RETRY, "busy")
    assert DialAttempt.objects.get(recipient=recipient).state == AttemptState.ENDED


# --- reconciliation backs off -------------------------------------------------------------------
def test_unknown_attempt_lookups_back_off_exponentially_during_an_outage(rsps, settings):
    settings.OUTBOUND_RECONCILE_BASE_SECONDS = 5
    settings.OUTBOUND_RECONCILE_MAX_SECONDS = 300
    settings.OUTBOUND_RECONCILE_MAX_LOOKUPS = 8
    lists = []
    rsps.add_callback(
        responses.POST, "http://vapi.test/call", callback=lambda r: (503, {}, '{"message": "down"}')
    )
    rsps.add_callback(
        responses.GET, "http://vapi.test/call", callback=lambda r: lists.append(1) or (503, {}, "{}")
    )
    campaign = make_campaign()
    add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
    # A beat tick every 3 s for ten minutes of outage.
    for second in range(3, 600, 3):
        with time_machine.travel(NOON + dt.timedelta(seconds=second), tick=False):
            dial_attempts_recover()
    attempt = DialAttempt.objects.get()
    # 1 at once, then 5, 10, 20, 40, 80, 160 s apart: 7 lookups in ten minutes, not 200.
    assert attempt.reconcile_tries == 7
    assert len(lists) <= attempt.reconcile_tries * (settings.VAPI_RETRIES + 1)  # each GET's own retries
    assert attempt.state == AttemptState.UNKNOWN  # never given up while Vapi cannot answer


# --- what counts as reached ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "seconds", "state", "outcome"),
    [
        ({}, 2.8, RecipientState.RETRY, "not-reached"),
        ({}, 40, RecipientState.DONE, "completed"),
        ({"reached_requires_success": True}, 40, RecipientState.RETRY, "not-reached"),
        ({"reached_structured_field": "booked"}, 40, RecipientState.RETRY, "not-reached"),
    ],
)
def test_the_campaign_decides_what_counts_as_reached(rsps, fields, seconds, state, outcome):
    FakeVapi(rsps)
    campaign = make_campaign(**fields)
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        end_call(
            Call.objects.get(campaign_recipient=recipient),
            "customer-ended-call",
            seconds=seconds,
            success_evaluation="false",
            structured_data={"booked": False},
        )
    recipient.refresh_from_db()
    assert (recipient.state, recipient.last_outcome) == (state, outcome)
    if state == RecipientState.RETRY:
        assert recipient.next_attempt_at == NOON + dt.timedelta(minutes=60)  # the not-reached group


def test_success_and_structured_field_make_a_reach(rsps):
    FakeVapi(rsps)
    campaign = make_campaign(reached_requires_success=True, reached_structured_field="booked")
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        end_call(
            Call.objects.get(campaign_recipient=recipient),
            "customer-ended-call",
            success_evaluation="true",
            structured_data={"booked": True},
        )
    recipient.refresh_from_db()
    assert recipient.state == RecipientState.DONE
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.RUNNING
