"""Per-outcome max attempts: a group's cap counts the attempts that ended in it, the campaign's
max_attempts stays the ceiling, and refusals (never rang) count in neither (issue 18)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
import responses
import time_machine
from django.apps import apps

from calls.campaigns.services.dispatch import campaign_dispatch_due
from calls.campaigns.services.outcomes import retry_decision, retry_policy_errors
from calls.enums import AttemptState, DecisionRule, Outcome, RecipientState
from calls.models import Call, Campaign, DialAttempt, DispatchDecision
from tests.calls.campaign_support import FakeVapi, add_recipient, end_call, make_campaign

NOON = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)  # noon in New York
RATE_LIMITED = (429, {"Retry-After": "30"}, {"message": "Too Many Requests", "statusCode": 429})
POLICY = {
    "busy": {"retry": True, "delay_minutes": 10, "max_attempts": 2},
    "no-answer": {"retry": True, "delay_minutes": 20, "max_attempts": None},
    "voicemail": {"retry": True, "delay_minutes": 30, "max_attempts": 1},
    "not-reached": {"retry": True, "delay_minutes": 60, "max_attempts": None},
    "failed": {"retry": True, "delay_minutes": 5, "max_attempts": None},
}


@pytest.mark.parametrize(
    ("cap", "attempts", "in_group", "campaign_max", "stopped", "detail"),
    [
        (None, 2, 2, 5, False, ""),  # no own cap: only the campaign's
        (2, 1, 1, 5, False, ""),
        (2, 3, 2, 5, True, "2 of 2 attempts ended 'busy'"),
        (1, 2, 0, 5, True, "1 of 1"),  # the attempt that just ended counts even if not yet stored
        (1, 1, 1, 5, True, "1 of 1"),
        (4, 3, 1, 3, True, "3 of 3 attempts used (last: busy)"),  # the campaign's cap is the ceiling
        (None, 3, 3, 3, True, "3 of 3 attempts used"),
    ],
)
def test_retry_decision(cap, attempts, in_group, campaign_max, stopped, detail):
    verdict = retry_decision(
        rule={"retry": True, "delay_minutes": 10, "max_attempts": cap},
        outcome=Outcome.BUSY,
        attempts=attempts,
        in_group=in_group,
        campaign_max=campaign_max,
    )
    assert (verdict is not None) == stopped
    if stopped:
        assert verdict.rule == DecisionRule.MAX_ATTEMPTS and not verdict.allowed and detail in verdict.detail


@pytest.mark.parametrize("cap", [0, 21, "2", 1.5, True])
def test_policy_validation_rejects_a_bad_cap(cap):
    assert retry_policy_errors({"busy": {"retry": True, "max_attempts": cap}}) == [
        "'busy.max_attempts' must be empty (null) or a whole number from 1 to 20."
    ]
    assert retry_policy_errors({"busy": {"retry": True, "max_attempts": None}}) == []


@pytest.fixture
def vapi(settings):
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeVapi(rsps)


def _dial_and_end(campaign, recipient, at: dt.datetime, reason: str) -> None:
    with time_machine.travel(at, tick=False):
        assert len(campaign_dispatch_due(campaign=campaign).reserved) == 1
        end_call(Call.objects.filter(campaign_recipient=recipient).latest("id"), reason)


@pytest.mark.django_db
def test_busy_cap_stops_after_two_busy_whatever_came_between(vapi):
    campaign = make_campaign(retry_policy=POLICY, max_attempts=5)
    recipient = add_recipient(campaign)
    _dial_and_end(campaign, recipient, NOON, "customer-busy")
    recipient.refresh_from_db()
    assert (recipient.state, recipient.next_attempt_at) == (
        RecipientState.RETRY,
        NOON + dt.timedelta(minutes=10),
    )
    # A no-answer in between is not a busy attempt; a 429 is no attempt at all.
    second = NOON + dt.timedelta(minutes=10)
    _dial_and_end(campaign, recipient, second, "customer-did-not-answer")
    third = second + dt.timedelta(minutes=20)
    vapi.script.append(RATE_LIMITED)
    with time_machine.travel(third, tick=False):
        assert campaign_dispatch_due(campaign=campaign).refused == 1
    recipient.refresh_from_db()
    assert (recipient.attempts, recipient.state) == (2, RecipientState.RETRY)
    _dial_and_end(campaign, recipient, third + dt.timedelta(seconds=30), "customer-busy")
    recipient.refresh_from_db()
    assert (recipient.state, recipient.attempts, recipient.next_attempt_at) == (
        RecipientState.FAILED,
        3,
        None,
    )
    stop = DispatchDecision.objects.get(recipient=recipient, rule=DecisionRule.MAX_ATTEMPTS)
    assert "2 of 2 attempts ended 'busy'" in stop.detail and "3 of 5 attempts in all" in stop.detail
    assert stop.at == third + dt.timedelta(seconds=30)
    states = list(
        DialAttempt.objects.filter(recipient=recipient).order_by("id").values_list("state", "outcome")
    )
    assert states == [
        (AttemptState.ENDED, Outcome.BUSY),
        (AttemptState.ENDED, Outcome.NO_ANSWER),
        (AttemptState.REFUSED, ""),
        (AttemptState.ENDED, Outcome.BUSY),
    ]
    with time_machine.travel(third + dt.timedelta(days=1), tick=False):
        assert campaign_dispatch_due(campaign=campaign).reserved == []


@pytest.mark.django_db
def test_a_cap_of_one_stops_at_the_first_voicemail_but_other_outcomes_still_retry(vapi):
    campaign = make_campaign(retry_policy=POLICY, max_attempts=5)
    answered_late, machine = add_recipient(campaign), add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        assert len(campaign_dispatch_due(campaign=campaign).reserved) == 2
        end_call(Call.objects.get(campaign_recipient=answered_late), "customer-did-not-answer")
        end_call(Call.objects.get(campaign_recipient=machine), "voicemail")
    answered_late.refresh_from_db()
    machine.refresh_from_db()
    assert answered_late.state == RecipientState.RETRY
    assert answered_late.next_attempt_at == NOON + dt.timedelta(minutes=20)
    assert (machine.state, machine.attempts) == (RecipientState.FAILED, 1)
    assert (
        "1 of 1 attempts ended 'voicemail'"
        in DispatchDecision.objects.get(recipient=machine, allowed=False).detail
    )


@pytest.mark.django_db
def test_the_campaign_cap_stays_the_ceiling(vapi):
    policy = {**POLICY, "busy": {"retry": True, "delay_minutes": 0, "max_attempts": 10}}
    campaign = make_campaign(retry_policy=policy, max_attempts=2)
    recipient = add_recipient(campaign)
    _dial_and_end(campaign, recipient, NOON, "customer-busy")
    _dial_and_end(campaign, recipient, NOON + dt.timedelta(minutes=1), "customer-busy")
    recipient.refresh_from_db()
    assert (recipient.state, recipient.attempts) == (RecipientState.FAILED, 2)
    assert "2 of 2 attempts used" in DispatchDecision.objects.get(recipient=recipient, allowed=False).detail


@pytest.mark.django_db
def test_migration_keeps_existing_policies_behaving_the_same():
    migration = importlib.import_module("calls.migrations.0010_retry_policy_max_attempts")
    old = make_campaign(retry_policy={"busy": {"retry": False, "delay_minutes": 5}, "voicemail": "junk"})
    empty = make_campaign(retry_policy={})
    migration.add_group_caps(apps, None)
    old.refresh_from_db()
    empty.refresh_from_db()
    assert old.retry_policy == {
        "busy": {"retry": False, "delay_minutes": 5, "max_attempts": None},
        "no-answer": {"retry": True, "delay_minutes": 120, "max_attempts": None},
        "voicemail": {"retry": True, "delay_minutes": 240, "max_attempts": None},  # what the dialer used
        "not-reached": {"retry": True, "delay_minutes": 60, "max_attempts": None},
        "failed": {"retry": True, "delay_minutes": 60, "max_attempts": None},
    }
    assert empty.retry_policy == Campaign().retry_policy
    migration.add_group_caps(apps, None)  # a second run changes nothing
    assert Campaign.objects.get(pk=old.pk).retry_policy == old.retry_policy
