"""End-of-call outcomes drive the retry policy, max attempts, opt-outs and the spend limit."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
import time_machine
from django.utils import timezone

from calls.campaigns.selectors import campaign_progress
from calls.campaigns.services.dispatch import campaign_dispatch_due
from calls.enums import AttemptState, CampaignState, DecisionRule, Outcome, RecipientState
from calls.models import Call, DialAttempt, DispatchDecision
from tests.calls.campaign_support import FakeVapi, add_recipient, end_call, make_campaign

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)  # 12:00 in New York


@pytest.fixture
def vapi():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeVapi(rsps)


POLICY = {
    "busy": {"retry": True, "delay_minutes": 10},
    "no-answer": {"retry": True, "delay_minutes": 60},
    "voicemail": {"retry": False, "delay_minutes": 0},
    "failed": {"retry": True, "delay_minutes": 5},
}


@pytest.mark.parametrize(
    ("reason", "outcome", "state", "delay"),
    [
        ("customer-busy", Outcome.BUSY, RecipientState.RETRY, 10),
        ("customer-did-not-answer", Outcome.NO_ANSWER, RecipientState.RETRY, 60),
        ("voicemail", Outcome.VOICEMAIL, RecipientState.FAILED, None),
        ("twilio-failed-to-connect-call", Outcome.FAILED, RecipientState.RETRY, 5),
        ("pipeline-error-openai-llm-failed", Outcome.FAILED, RecipientState.RETRY, 5),
        ("a-reason-vapi-added-later", Outcome.OTHER, RecipientState.RETRY, 5),
        ("customer-ended-call", Outcome.COMPLETED, RecipientState.DONE, None),
        ("twilio-reported-customer-misdialed", Outcome.INVALID_NUMBER, RecipientState.FAILED, None),
    ],
)
def test_retry_scheduling_per_outcome(vapi, reason, outcome, state, delay):
    campaign = make_campaign(retry_policy=POLICY)
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
    ended_at = NOON + dt.timedelta(minutes=3)
    with time_machine.travel(ended_at, tick=False):
        end_call(Call.objects.get(campaign_recipient=recipient), reason)
    recipient.refresh_from_db()
    assert (recipient.state, recipient.last_outcome) == (state, outcome)
    expected = ended_at + dt.timedelta(minutes=delay) if delay is not None else None
    assert recipient.next_attempt_at == expected
    attempt = DialAttempt.objects.get(recipient=recipient)
    assert (attempt.state, attempt.outcome) == (AttemptState.ENDED, outcome)


def test_retry_becomes_due_at_its_time_and_max_attempts_stops_it(vapi):
    campaign = make_campaign(retry_policy=POLICY, max_attempts=2)
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        end_call(Call.objects.get(campaign_recipient=recipient), "customer-busy")
    with time_machine.travel(NOON + dt.timedelta(minutes=9, seconds=59), tick=False):
        assert campaign_dispatch_due(campaign=campaign).reserved == []  # 10-minute busy delay
    with time_machine.travel(NOON + dt.timedelta(minutes=10), tick=False):
        assert len(campaign_dispatch_due(campaign=campaign).reserved) == 1
        second = Call.objects.filter(campaign_recipient=recipient).order_by("-id").first()
        end_call(second, "customer-busy")
    recipient.refresh_from_db()
    assert recipient.attempts == 2 and recipient.state == RecipientState.FAILED
    assert recipient.next_attempt_at is None
    stop = DispatchDecision.objects.filter(recipient=recipient, allowed=False).get()
    assert stop.rule == DecisionRule.MAX_ATTEMPTS and "2 of 2" in stop.detail
    assert [a.attempt_number for a in DialAttempt.objects.filter(recipient=recipient).order_by("id")] == [
        1,
        2,
    ]
    assert len(vapi.payloads) == 2


def test_end_hook_is_idempotent(vapi):
    campaign = make_campaign(retry_policy=POLICY)
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        call = end_call(Call.objects.get(campaign_recipient=recipient), "customer-busy")
        first = DialAttempt.objects.get(recipient=recipient).updated_at
    with time_machine.travel(NOON + dt.timedelta(minutes=1), tick=False):
        end_call(call, "customer-busy")  # the report after the status update
    recipient.refresh_from_db()
    assert recipient.next_attempt_at == NOON + dt.timedelta(minutes=10)
    assert DialAttempt.objects.get(recipient=recipient).updated_at == first


def test_customer_who_opted_out_mid_call_is_never_called_again(vapi):
    campaign = make_campaign(retry_policy=POLICY)
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        # The opt-out tool ran during the call ("stop calling me").
        customer = recipient.customer
        customer.do_not_call, customer.do_not_call_at, customer.do_not_call_source = (
            True,
            timezone.now(),
            "tool",
        )
        customer.save()
        end_call(Call.objects.get(campaign_recipient=recipient), "customer-did-not-answer")
    recipient.refresh_from_db()
    assert recipient.state == RecipientState.BLOCKED and recipient.next_attempt_at is None
    assert DispatchDecision.objects.filter(recipient=recipient, rule=DecisionRule.DO_NOT_CALL).exists()
    with time_machine.travel(NOON + dt.timedelta(days=1), tick=False):
        campaign_dispatch_due(campaign=campaign)
    assert len(vapi.payloads) == 1


def test_spend_limit_pauses_the_campaign(vapi):
    campaign = make_campaign(spend_limit="0.50", max_concurrent_calls=2)
    recipients = [add_recipient(campaign) for _ in range(4)]
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        calls = list(Call.objects.filter(campaign=campaign).order_by("id"))
        end_call(calls[0], "customer-ended-call", cost="0.30")
        campaign.refresh_from_db()
        assert campaign.state == CampaignState.RUNNING
        end_call(calls[1], "customer-ended-call", cost="0.25")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED and "0.55 of 0.50" in campaign.state_reason
    assert DispatchDecision.objects.filter(campaign=campaign, rule=DecisionRule.SPEND_LIMIT).exists()
    with time_machine.travel(NOON + dt.timedelta(minutes=5), tick=False):
        campaign_dispatch_due(campaign=campaign)
    assert len(vapi.payloads) == 2
    assert sum(r.dial_attempts.count() for r in recipients) == 2
    progress = campaign_progress(campaign=campaign)
    assert progress["cost"] == pytest.approx(0.55) and progress["state"] == CampaignState.PAUSED


def test_campaign_completes_when_everyone_is_done_and_progress_adds_up(vapi):
    campaign = make_campaign(retry_policy=POLICY, max_concurrent_calls=5)
    for _ in range(3):
        add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        reasons = ["customer-ended-call", "voicemail", "customer-ended-call"]
        for call, reason in zip(Call.objects.filter(campaign=campaign).order_by("id"), reasons, strict=True):
            end_call(call, reason, cost="0.10")
        progress = campaign_progress(campaign=campaign)
        campaign_dispatch_due(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.COMPLETED
    assert progress["recipient_states"]["done"] == 2 and progress["recipient_states"]["failed"] == 1
    assert progress["outcome_mix"] == {"completed": 2, "voicemail": 1}
    assert progress["pickup_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert progress["attempts"] == 3 and progress["cost"] == pytest.approx(0.30)
    assert progress["remaining"] == 0 and progress["eta_seconds"] == 0.0
