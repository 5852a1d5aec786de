"""An attempt is recorded before the Vapi request and is never sent twice; reconciliation finds it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import requests
import responses
import time_machine

from calls.campaigns.services.dialing import attempt_dial
from calls.campaigns.services.dispatch import DispatchResult, _reserve, campaign_dispatch_due
from calls.campaigns.services.recovery import dial_attempts_recover
from calls.enums import AttemptState, RecipientState
from calls.models import Call, CampaignRecipient, DialAttempt
from tests.calls.campaign_support import FakeVapi, add_recipient, make_campaign

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _reserved(campaign) -> DialAttempt:
    result = DispatchResult(campaign_id=campaign.pk)
    _reserve(campaign_id=campaign.pk, now=NOON, result=result)
    (attempt_id,) = result.reserved
    return DialAttempt.objects.get(pk=attempt_id)


def test_attempt_is_recorded_before_the_request_leaves(rsps):
    seen = []

    def on_create(payload):
        attempt = DialAttempt.objects.get(pk=int(payload["name"].rsplit("-", 1)[1]))
        seen.append((attempt.state, attempt.requested_at))

    vapi = FakeVapi(rsps, on_create=on_create)
    campaign = make_campaign()
    add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
    assert seen == [(AttemptState.REQUESTING, NOON)] and len(vapi.payloads) == 1


def test_read_timeout_after_vapi_accepted_is_reconciled_not_redialed(rsps):
    vapi = FakeVapi(rsps)
    campaign = make_campaign()
    recipient = add_recipient(campaign)
    original = vapi._create

    def accept_then_time_out(request):
        original(request)  # Vapi placed the call ...
        raise requests.exceptions.ReadTimeout("read timed out")  # ... but the answer never came back

    rsps.remove(responses.POST, "http://vapi.test/call")  # swap in the failing callback
    rsps.add_callback(responses.POST, "http://vapi.test/call", callback=accept_then_time_out)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
    attempt = DialAttempt.objects.get(recipient=recipient)
    assert attempt.state == AttemptState.ACCEPTED
    assert attempt.vapi_call_id == vapi.created[0]["call"]["id"]
    assert Call.objects.get(vapi_id=attempt.vapi_call_id).campaign_recipient == recipient
    recipient.refresh_from_db()
    assert recipient.state == RecipientState.IN_CALL
    assert len(vapi.payloads) == 1


def test_worker_died_after_vapi_accepted_recovery_finds_the_call(rsps):
    vapi = FakeVapi(rsps)
    campaign = make_campaign()
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        attempt = _reserved(campaign)
        # The worker committed "requesting", Vapi created the call, then the worker died.
        DialAttempt.objects.filter(pk=attempt.pk).update(state=AttemptState.REQUESTING, requested_at=NOON)
        vapi_id = str(uuid.uuid4())
        vapi.created.append(
            {"payload": {}, "call": {"id": vapi_id, "status": "in-progress", "name": attempt.vapi_name}}
        )
        # Another dispatcher (or a retried task) handling the same attempt must not send it.
        attempt_dial(attempt_id=attempt.pk)
        campaign_dispatch_due(campaign=campaign)
    assert vapi.payloads == [{}]  # nothing new was POSTed
    with time_machine.travel(NOON + dt.timedelta(minutes=3), tick=False):
        assert dial_attempts_recover() == {"abandoned": 0, "reconciled": 1, "repaired": 0}
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.ACCEPTED and attempt.vapi_call_id == vapi_id
    recipient.refresh_from_db()
    assert recipient.state == RecipientState.IN_CALL
    assert DialAttempt.objects.filter(recipient=recipient).count() == 1


def test_worker_died_before_sending_is_abandoned_and_redialed_as_a_new_attempt(rsps):
    vapi = FakeVapi(rsps)
    campaign = make_campaign()
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        first = _reserved(campaign)  # reserved, never sent
    with time_machine.travel(NOON + dt.timedelta(seconds=30), tick=False):
        assert dial_attempts_recover()["abandoned"] == 0  # not stale yet: the worker may be alive
    with time_machine.travel(NOON + dt.timedelta(minutes=2), tick=False):
        assert dial_attempts_recover()["abandoned"] == 1
        attempt_dial(attempt_id=first.pk)  # the old worker waking up late must not send it
        assert vapi.payloads == []
        campaign_dispatch_due(campaign=campaign)
    attempts = list(DialAttempt.objects.filter(recipient=recipient).order_by("attempt_number"))
    assert [(a.attempt_number, a.state) for a in attempts] == [
        (1, AttemptState.ABANDONED),
        (2, AttemptState.ACCEPTED),
    ]
    assert len(vapi.payloads) == 1 and vapi.payloads[0]["name"] == attempts[1].vapi_name
    recipient.refresh_from_db()
    assert recipient.attempts == 1  # an attempt that never left does not count


def test_attempt_never_found_in_vapi_becomes_lost_and_is_not_an_attempt(rsps):
    FakeVapi(rsps)
    campaign = make_campaign()
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        attempt = _reserved(campaign)
        DialAttempt.objects.filter(pk=attempt.pk).update(state=AttemptState.UNKNOWN, requested_at=NOON)
        CampaignRecipient.objects.filter(pk=recipient.pk).update(attempts=1)  # counted when sent
    for minutes in (1, 5, 11):
        with time_machine.travel(NOON + dt.timedelta(minutes=minutes), tick=False):
            dial_attempts_recover()
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.LOST and attempt.reconcile_tries == 3
    recipient.refresh_from_db()
    # A 5xx that never became a call rang nobody: the attempt is given back, the recipient is due.
    assert (recipient.state, recipient.attempts) == (RecipientState.PENDING, 0)
    assert recipient.next_attempt_at == NOON + dt.timedelta(minutes=11)


def test_vapi_refusal_is_recorded_and_retried_per_failed_policy(rsps):
    FakeVapi(
        rsps,
        status=400,
        body={
            "message": ["customer.number must be a valid phone number"],
            "error": "Bad Request",
            "statusCode": 400,
        },
    )
    campaign = make_campaign()
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
    attempt = DialAttempt.objects.get(recipient=recipient)
    assert attempt.state == AttemptState.REJECTED and "valid phone number" in attempt.error
    recipient.refresh_from_db()
    assert recipient.state == RecipientState.RETRY and recipient.attempts == 1
    assert recipient.next_attempt_at == NOON + dt.timedelta(minutes=60)  # default failed delay
