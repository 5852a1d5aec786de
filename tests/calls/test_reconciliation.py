"""Reconciliation: calls whose end never arrived are completed from Vapi's GET /call."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
from django.utils import timezone

from calls.enums import CallStatus, Outcome, TurnSource
from calls.models import Call
from calls.services.reconciliation import calls_due_for_reconciliation, calls_reconcile
from calls.tasks import reconcile_calls
from tests.conftest import load_fixture
from tests.factories import AssistantFactory, CallFactory

pytestmark = pytest.mark.django_db

VAPI = "http://vapi.test"
CALL_ID = "0195953a-5e2c-7b41-9d8e-3f6a2c1b7e90"


def make_call(
    *, minutes_ago: float, status: str = CallStatus.IN_PROGRESS, vapi_id: str = CALL_ID, **fields
) -> Call:
    call = CallFactory(
        vapi_id=vapi_id, status=status, assistant=AssistantFactory(max_duration_seconds=600), **fields
    )
    started = timezone.now() - dt.timedelta(minutes=minutes_ago)
    Call.objects.filter(pk=call.pk).update(created_at=started, started_at=started)
    call.refresh_from_db()
    return call


@responses.activate
def test_a_call_stuck_in_progress_past_max_duration_is_completed_from_vapi():
    call = make_call(minutes_ago=25)  # 10 min max duration + 10 min grace passed
    responses.get(f"{VAPI}/call/{CALL_ID}", json=load_fixture("rest/call-ended.json"))
    responses.get(f"{VAPI}/call", json=[])  # discovery, after the known calls: nothing unknown
    reconcile_calls.delay()
    call.refresh_from_db()
    assert (call.status, call.ended_reason, call.outcome) == (
        "ended",
        "assistant-said-end-call-phrase",
        "completed",
    )
    assert call.has_final_report and call.cost is not None and call.summary
    assert call.duration_seconds == pytest.approx(151.626)
    assert call.turns.count() > 0 and set(call.turns.values_list("source", flat=True)) == {TurnSource.REPORT}
    assert responses.calls[0].request.headers["Authorization"] == "Bearer test-vapi-private-key-0f3b"
    assert calls_due_for_reconciliation(now=timezone.now()) == []  # done: not fetched again


@responses.activate
def test_calls_within_their_expected_time_are_not_fetched():
    make_call(minutes_ago=15)  # max duration 10 + grace 10: not due yet
    make_call(minutes_ago=60, vapi_id="done", status=CallStatus.ENDED, has_final_report=True)
    make_call(minutes_ago=60, vapi_id="later", status=CallStatus.SCHEDULED)
    assert calls_reconcile() == 0
    assert len(responses.calls) == 0


@responses.activate
def test_an_ended_call_without_a_report_is_completed():
    call = make_call(minutes_ago=30, status=CallStatus.ENDED)
    Call.objects.filter(pk=call.pk).update(ended_at=timezone.now() - dt.timedelta(minutes=20))
    responses.get(f"{VAPI}/call/{CALL_ID}", json=load_fixture("rest/call-ended.json"))
    assert calls_reconcile() == 1
    call.refresh_from_db()
    assert call.has_final_report and call.outcome == Outcome.COMPLETED


@responses.activate
def test_a_call_vapi_still_reports_in_progress_moves_forward_only():
    call = make_call(minutes_ago=25, status=CallStatus.RINGING)
    data = load_fixture("rest/call-ended.json") | {
        "status": "in-progress",
        "endedReason": None,
        "endedAt": None,
    }
    responses.get(f"{VAPI}/call/{CALL_ID}", json=data)
    assert calls_reconcile() == 0
    call.refresh_from_db()
    assert call.status == CallStatus.IN_PROGRESS and not call.has_final_report


@responses.activate
def test_a_call_vapi_does_not_know_is_ended_as_not_found():
    call = make_call(minutes_ago=25)
    responses.get(f"{VAPI}/call/{CALL_ID}", status=404, json={"message": "Not Found", "statusCode": 404})
    assert calls_reconcile() == 1
    call.refresh_from_db()
    assert (call.status, call.ended_reason, call.outcome) == ("ended", "not-found", Outcome.OTHER)


@responses.activate
def test_vapi_errors_leave_the_call_for_the_next_run():
    call = make_call(minutes_ago=25)
    responses.get(f"{VAPI}/call/{CALL_ID}", status=500, json={"message": "boom"})
    assert calls_reconcile() == 0
    call.refresh_from_db()
    assert call.status == CallStatus.IN_PROGRESS
    assert calls_due_for_reconciliation(now=timezone.now()) == [call]


def test_beat_schedules_the_sweeper_every_minute_and_reconciliation(settings):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["calls.sweep_webhook_events"] == 60.0
    assert "calls.reconcile_calls" in schedule
