"""Campaign calls through the real webhook: an end-of-call report drives the retry policy and refills."""

from __future__ import annotations

import pytest
import responses

from calls.campaigns.services.dispatch import campaign_dispatch_due
from calls.enums import AttemptState, RecipientState
from calls.models import Call, DialAttempt
from tests.calls.campaign_support import FakeVapi, add_recipient, make_campaign
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db


def _for_call(name: str, call: Call, reason: str, cost: float | None = None) -> dict:
    payload = load_fixture(name)
    message = payload["message"]
    message["call"]["id"] = call.vapi_id
    message["endedReason"] = reason
    if cost is not None:
        message["cost"] = cost
    return payload


def test_status_ended_then_report_apply_outcome_once_and_refill_the_slot(vapi_post):
    campaign = make_campaign(max_concurrent_calls=1, window_start="00:00", window_end="23:59:59")
    first, second = add_recipient(campaign, time_zone="UTC"), add_recipient(campaign, time_zone="UTC")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        vapi = FakeVapi(rsps)
        campaign_dispatch_due(campaign=campaign)
        call = Call.objects.get(campaign_recipient=first)
        assert vapi_post(_for_call("status-update-ended.json", call, "customer-busy")).status_code == 200
        first.refresh_from_db()
        assert first.state == RecipientState.RETRY and first.last_outcome == "busy"
        assert len(vapi.payloads) == 2  # the freed slot went to the second recipient at once
        assert Call.objects.get(campaign_recipient=second).campaign == campaign
        report = _for_call("end-of-call-report.json", call, "customer-busy", cost=0.05)
        assert vapi_post(report).status_code == 200
    first.refresh_from_db()
    assert first.state == RecipientState.RETRY and first.attempts == 1
    attempt = DialAttempt.objects.get(recipient=first)
    assert attempt.state == AttemptState.ENDED and attempt.outcome == "busy"
    assert len(vapi.payloads) == 2
