"""A round's POSTs overlap (CAMPAIGN_DIAL_CONCURRENCY) on HTTP-only threads, each attempt sent once,
after a first request sent alone; a refusal seen mid-round stops it; a report after the ended
status enqueues no second dispatch; the ledger takes ended statuses first."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import responses
import time_machine
from django.db import connection

import calls.campaigns.services.ended as ended_module
from calls.campaigns.services.dispatch import campaign_dispatch_due
from calls.campaigns.services.sending import _pool
from calls.enums import AttemptState, CallStatus, DecisionRule, Direction, RecipientState
from calls.models import Call, DialAttempt
from tests.calls.campaign_support import FakeVapi, add_recipient, end_call, make_campaign
from tests.factories import CallFactory

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)  # noon in New York


@pytest.fixture(autouse=True)
def three_in_flight(settings):
    settings.CAMPAIGN_DIAL_CONCURRENCY = 3


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_a_round_overlaps_its_requests_and_sends_each_attempt_once(rsps):
    campaign = make_campaign(max_concurrent_calls=7)
    for _ in range(7):
        add_recipient(campaign)
    in_flight, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def on_create(payload):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
            if in_flight[0] >= 3:
                release.set()
        release.wait(timeout=2)  # hold each request until three are in flight at once
        with lock:
            in_flight[0] -= 1

    vapi = FakeVapi(rsps, on_create=on_create)
    with time_machine.travel(NOON, tick=False):
        result = campaign_dispatch_due(campaign=campaign)
    assert (len(result.reserved), result.dialed) == (7, 7)
    assert peak[0] == 3  # never more than CAMPAIGN_DIAL_CONCURRENCY at once
    names = [p["name"] for p in vapi.payloads]
    assert sorted(names) == sorted({f"voiceops-attempt-{pk}" for pk in result.reserved})  # once each
    assert set(DialAttempt.objects.values_list("state", flat=True)) == {AttemptState.ACCEPTED}


def test_the_dial_threads_hold_no_database_connection(rsps):
    campaign = make_campaign(max_concurrent_calls=4)
    for _ in range(4):
        add_recipient(campaign)
    FakeVapi(rsps)
    with time_machine.travel(NOON, tick=False):
        assert campaign_dispatch_due(campaign=campaign).dialed == 4
    held = [_pool().submit(lambda: connection.connection is not None).result() for _ in range(6)]
    assert held == [False] * 6  # the connection budget counts none for them (docs/SCALING.md)


def test_a_refusal_seen_mid_round_stops_it_and_uses_no_attempt(rsps):
    campaign = make_campaign(max_concurrent_calls=6, max_attempts=1)
    recipients = [add_recipient(campaign) for _ in range(6)]
    vapi = FakeVapi(rsps)
    refusal = (429, {"Retry-After": "30"}, {"message": "Too Many Requests", "statusCode": 429})
    vapi.script = [(201, {}, None), refusal]  # the probe is accepted, the next is refused
    with time_machine.travel(NOON, tick=False):
        result = campaign_dispatch_due(campaign=campaign)
    assert result.stopped_by == DecisionRule.VAPI_REFUSED and result.refused >= 1
    sent = len(vapi.payloads) + len(vapi.refused)
    assert sent <= 1 + 3  # the probe, then at most CAMPAIGN_DIAL_CONCURRENCY in flight
    assert result.released == 6 - sent
    for recipient in recipients:
        recipient.refresh_from_db()
        assert recipient.attempts == (1 if recipient.state == RecipientState.IN_CALL else 0)


def test_a_report_after_the_ended_status_enqueues_no_second_dispatch(
    rsps, monkeypatch, django_capture_on_commit_callbacks
):
    campaign = make_campaign(max_concurrent_calls=1)
    add_recipient(campaign)
    FakeVapi(rsps)
    enqueued: list[int] = []
    monkeypatch.setattr(ended_module, "campaign_dispatch_enqueue", lambda *, campaign_id: enqueued.append(1))
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
        call = Call.objects.get()
        with django_capture_on_commit_callbacks(execute=True):
            end_call(call, "customer-ended-call", final=False)  # the ended status frees the slot
        assert len(enqueued) == 1
        Call.objects.filter(pk=call.pk).update(has_final_report=True)
        with django_capture_on_commit_callbacks(execute=True):
            ended_module.call_ended_apply(call=call)  # the report: nothing freed, nothing enqueued
    assert len(enqueued) == 1


@pytest.mark.parametrize("direction", [Direction.INBOUND, Direction.WEB])
def test_an_inbound_or_web_call_end_looks_up_no_attempt(direction, django_assert_num_queries):
    """Only our own dials have attempts: the ledger does not look for one on other calls' ends."""
    call = CallFactory(direction=direction, status=CallStatus.ENDED)
    with django_assert_num_queries(1):  # reading the call
        ended_module.call_ended_apply(call=call)


def test_the_ledger_takes_ended_statuses_then_status_changes_before_reports():
    """An ``ended`` status frees a slot: it is not processed behind a backlog of other events."""
    from calls.services.events import webhook_events_pending_ids
    from tests.factories import WebhookEventFactory

    report = WebhookEventFactory(message_type="end-of-call-report")
    transcript = WebhookEventFactory(message_type="transcript")
    ringing = WebhookEventFactory(message_type="status-update")
    compact = WebhookEventFactory(body='{"message":{"type":"status-update","status":"ended"}}')
    spaced = WebhookEventFactory(body='{"message": {"type": "status-update", "status": "ended"}}')
    order = [compact.pk, spaced.pk, ringing.pk, report.pk, transcript.pk]
    assert webhook_events_pending_ids(limit=10) == order
    assert webhook_events_pending_ids(limit=3) == order[:3]
