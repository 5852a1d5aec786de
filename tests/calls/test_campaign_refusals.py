"""Refusals are not attempts: 429, concurrencyBlocked and concurrency-limit ends requeue the recipient
with Vapi's Retry-After, the round stops at the first refusal, and the API answers 429/503."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
import time_machine

from calls.campaigns.services.dispatch import campaign_dispatch_due
from calls.enums import AttemptState, DecisionRule, RecipientState
from calls.models import Call, DialAttempt, DispatchDecision, OutboundBudget
from tests.calls.campaign_support import FakeVapi, add_recipient, end_call, make_campaign

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)  # noon in New York
RATE_LIMITED = (429, {"Retry-After": "42"}, {"message": "Too Many Requests", "statusCode": 429})


@pytest.fixture
def vapi(settings):
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeVapi(rsps)


def test_a_429_stops_the_round_uses_no_attempt_and_honours_retry_after(vapi):
    campaign = make_campaign(max_concurrent_calls=3, max_attempts=1)
    recipients = [add_recipient(campaign) for _ in range(3)]
    vapi.script.append(RATE_LIMITED)
    with time_machine.travel(NOON, tick=False):
        result = campaign_dispatch_due(campaign=campaign)
    assert len(result.reserved) == 3 and result.refused == 1 and result.released == 2
    assert len(vapi.refused) == 1 and vapi.payloads == []  # the other two were never POSTed
    due = NOON + dt.timedelta(seconds=42)
    for recipient in recipients:
        recipient.refresh_from_db()
        assert (recipient.state, recipient.attempts, recipient.next_attempt_at) == (
            RecipientState.PENDING,
            0,
            due,
        )
    refused = DialAttempt.objects.get(state=AttemptState.REFUSED)
    assert refused.idempotency_key.endswith(f"#refused-{refused.pk}")
    assert DispatchDecision.objects.filter(rule=DecisionRule.VAPI_REFUSED, attempt=refused).exists()
    assert OutboundBudget.objects.get().hold_until == due
    with time_machine.travel(due - dt.timedelta(seconds=1), tick=False):
        assert campaign_dispatch_due(campaign=campaign).reserved == []  # the org holds off
    with time_machine.travel(due, tick=False):
        assert len(campaign_dispatch_due(campaign=campaign).reserved) == 3
    assert len(vapi.payloads) == 3  # max_attempts=1 and still dialled: the 429 was not an attempt


def test_concurrency_blocked_answer_is_a_refusal(vapi):
    campaign = make_campaign(max_attempts=1)
    recipient = add_recipient(campaign)
    vapi.limits = {"concurrencyBlocked": True, "concurrencyLimit": 10, "remainingConcurrentCalls": 0}
    with time_machine.travel(NOON, tick=False):
        result = campaign_dispatch_due(campaign=campaign)
    assert result.refused == 1
    attempt = DialAttempt.objects.get(recipient=recipient)
    assert attempt.state == AttemptState.REFUSED and attempt.vapi_call_id  # the call exists at Vapi
    recipient.refresh_from_db()
    assert (recipient.state, recipient.attempts) == (RecipientState.PENDING, 0)
    assert recipient.next_attempt_at == NOON + dt.timedelta(seconds=5)  # no Retry-After: back-off
    # The refused call's end arrives later and changes nothing.
    end_call(
        Call.objects.get(vapi_id=attempt.vapi_call_id),
        "call.start.error-subscription-concurrency-limit-reached",
    )
    recipient.refresh_from_db()
    assert (recipient.state, recipient.attempts) == (RecipientState.PENDING, 0)


def test_call_ending_with_the_concurrency_limit_reason_is_not_an_attempt(vapi):
    campaign = make_campaign(max_attempts=1)
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        call = Call.objects.get(campaign_recipient=recipient)
        end_call(call, "call.start.error-subscription-concurrency-limit-reached", seconds=0)
    attempt = DialAttempt.objects.get(recipient=recipient)
    assert attempt.state == AttemptState.REFUSED
    recipient.refresh_from_db()
    assert (recipient.state, recipient.attempts, recipient.last_outcome) == (RecipientState.PENDING, 0, "")
    # Backed off: the second refusal of the same recipient waits twice as long.
    with time_machine.travel(NOON + dt.timedelta(seconds=5), tick=False):
        campaign_dispatch_due(campaign=campaign)
        second = Call.objects.filter(campaign_recipient=recipient).exclude(pk=call.pk).get()
        end_call(second, "call.start.error-subscription-concurrency-limit-reached", seconds=0)
    recipient.refresh_from_db()
    assert recipient.next_attempt_at == NOON + dt.timedelta(seconds=15)
    assert recipient.attempts == 0


def test_subscription_limits_set_the_org_limit(vapi, settings):
    settings.VAPI_CONCURRENCY_LIMIT = 10
    campaign = make_campaign()
    add_recipient(campaign)
    vapi.limits = {"concurrencyBlocked": False, "concurrencyLimit": 25, "remainingConcurrentCalls": 24}
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
    assert OutboundBudget.objects.get().reported_limit == 25
