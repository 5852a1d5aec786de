"""Answers never cross calls; retries within a call are idempotent; one deadline per message;
the legacy ``function-call`` goes through the same path. All through ``POST /webhooks/vapi/``."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from django.db import connection
from rest_framework import serializers

from calls.models import WebhookEvent
from tests.calls.conftest import post
from tests.conftest import load_fixture
from tests.factories import CustomerFactory, ToolFactory
from tests.tools.conftest import CALLER, at, tool_call, tool_message
from tests.tools.contract import assert_tool_answer_shape
from tools.dispatcher import LEGACY_MALFORMED
from tools.execution.types import HOLDING
from tools.models import Appointment, AppointmentStatus, InvocationState, ToolInvocation, ToolOutcome
from tools.registry import register, unregister

pytestmark = pytest.mark.django_db

OTHER = "+14155550177"
RUNS: list[str] = []


def send(client, *calls, number=CALLER, vapi_call_id=None) -> list[dict[str, str]]:
    message = tool_message(*calls, number=number, vapi_call_id=vapi_call_id)
    response = post(client, {"message": message})
    assert response.status_code == 200
    body = response.json()
    assert_tool_answer_shape(body, message)
    return body["results"]


def code_in(text: str) -> str:
    match = re.search(r"code is ((?:[A-Z0-9] ?){6})", text)
    assert match, text
    return match.group(1).replace(" ", "")


# --- two calls, one toolCallId -------------------------------------------------------------------


def test_two_calls_that_both_use_call_0_each_get_their_own_answer(client):
    CustomerFactory(number=CALLER, name="Dana Whitfield")
    CustomerFactory(number=OTHER, name="Omar Castillo")
    (first,) = send(client, tool_call("get_customer_info", {}, call_id="call_0"), number=CALLER)
    (second,) = send(client, tool_call("get_customer_info", {}, call_id="call_0"), number=OTHER)
    assert first["result"].startswith("This is Dana Whitfield.")
    assert second["result"].startswith("This is Omar Castillo.")
    assert "Dana" not in second["result"]
    assert ToolInvocation.objects.filter(tool_call_id="call_0").count() == 2
    assert WebhookEvent.objects.filter(message_type="tool-calls").count() == 2


def test_a_redelivery_in_the_same_call_is_still_answered_from_the_record(client):
    CustomerFactory(number=CALLER, name="Dana Whitfield")
    item = tool_call("get_customer_info", {}, call_id="call_0")
    vapi_call_id = str(uuid.uuid4())
    first = send(client, item, vapi_call_id=vapi_call_id)
    again = send(client, item, vapi_call_id=vapi_call_id)
    assert first == again
    assert ToolInvocation.objects.filter(tool_call_id="call_0").count() == 1


# --- business idempotency within a call ----------------------------------------------------------


def test_a_booking_retried_with_a_new_tool_call_id_returns_the_same_confirmation(client, resource, monday):
    vapi_call_id = str(uuid.uuid4())
    args = {"date": monday.isoformat(), "time": "10:00"}
    (first,) = send(client, tool_call("book_appointment", args), vapi_call_id=vapi_call_id)
    (retry,) = send(client, tool_call("book_appointment", args), vapi_call_id=vapi_call_id)
    assert first["result"].startswith("Booked with Dr. Patel")
    assert retry["result"] == first["result"]  # not "that time was just taken"
    assert Appointment.objects.count() == 1
    outcomes = list(ToolInvocation.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == [ToolOutcome.BOOKED, ToolOutcome.ALREADY_BOOKED]


def test_someone_elses_booking_of_the_slot_is_still_slot_taken(client, resource, monday):
    args = {"date": monday.isoformat(), "time": "10:00"}
    send(client, tool_call("book_appointment", args), number=OTHER)
    (mine,) = send(client, tool_call("book_appointment", args))
    assert mine["result"].startswith("Sorry, ") and "was just taken" in mine["result"]
    assert ToolInvocation.objects.order_by("-id").first().outcome == ToolOutcome.SLOT_TAKEN


def test_cancel_and_reschedule_retried_in_a_call_act_once_and_answer_the_same(client, resource, monday):
    vapi_call_id = str(uuid.uuid4())
    booked = send(client, tool_call("book_appointment", {"date": monday.isoformat(), "time": "09:00"}))
    code = code_in(booked[0]["result"])
    tuesday = monday + dt.timedelta(days=1)
    move = {"confirmation_code": code, "date": tuesday.isoformat(), "time": "13:00"}
    (moved,) = send(client, tool_call("reschedule_appointment", move), vapi_call_id=vapi_call_id)
    (moved_again,) = send(client, tool_call("reschedule_appointment", move), vapi_call_id=vapi_call_id)
    assert moved["result"].startswith("Moved the appointment with Dr. Patel")
    assert moved_again["result"] == moved["result"]
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1
    new_code = code_in(moved["result"])

    cancel = {"confirmation_code": new_code}
    (cancelled,) = send(client, tool_call("cancel_appointment", cancel), vapi_call_id=vapi_call_id)
    (cancelled_again,) = send(client, tool_call("cancel_appointment", cancel), vapi_call_id=vapi_call_id)
    assert cancelled["result"].startswith("Cancelled the appointment with Dr. Patel")
    assert cancelled_again["result"] == cancelled["result"]
    assert not Appointment.objects.filter(status=AppointmentStatus.BOOKED).exists()
    assert list(ToolInvocation.objects.order_by("id").values_list("outcome", flat=True))[1:] == [
        ToolOutcome.RESCHEDULED,
        ToolOutcome.RESCHEDULED,
        ToolOutcome.CANCELLED,
        ToolOutcome.CANCELLED,
    ]


# --- one deadline per message; deferred results by lineage -------------------------------------


class SlowArgs(serializers.Serializer):
    seconds = serializers.FloatField()


@pytest.fixture
def slow_tool():
    """A tool that sleeps in Postgres (so the statement timeout stops it) and counts its starts."""
    RUNS.clear()

    def slow(ctx, args):
        RUNS.append(ctx.tool_call_id)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [args["seconds"]])
        return f"slept {args['seconds']}"

    register(name="slow_tool", description="Sleeps.", arguments=SlowArgs)(slow)
    ToolFactory(name="slow_tool", timeout_seconds=0.3)
    yield
    unregister("slow_tool")


def test_four_parallel_slow_tools_are_answered_within_one_deadline(
    client, slow_tool, django_capture_on_commit_callbacks
):
    """Each would take 0.6 s against a 0.3 s deadline: the first uses the message's time, the
    others find it spent and are deferred without starting. Timing: bench/tools_parallel.py."""
    calls = [tool_call("slow_tool", {"seconds": 0.6}) for _ in range(4)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        results = send(client, *calls)
    assert [r["toolCallId"] for r in results] == [c["id"] for c in calls]
    assert all(r["result"] == HOLDING for r in results)
    assert len(RUNS) == 1  # only the first one started while the caller waited
    rows = ToolInvocation.objects.filter(name="slow_tool")
    assert set(rows.values_list("state", "outcome")) == {(InvocationState.DEFERRED, ToolOutcome.PENDING)}
    for callback in callbacks:  # the workers finish all four
        callback()
    assert sorted(rows.values_list("result", flat=True)) == ["slept 0.6"] * 4


def test_a_deferred_answer_goes_to_its_follow_up_only_never_to_a_new_request(
    client, slow_tool, resource, monday, django_capture_on_commit_callbacks
):
    """Book (deferred), ask again (the follow-up hears the booking), cancel, book the same slot
    again: that is a new request and books anew, not a replay of the cancelled confirmation."""
    ToolFactory(name="book_appointment", timeout_seconds=0.3)
    vapi_call_id = str(uuid.uuid4())
    args = {"date": monday.isoformat(), "time": "10:00"}
    with django_capture_on_commit_callbacks(execute=True):
        first = send(
            client,
            tool_call("slow_tool", {"seconds": 0.6}),
            tool_call("book_appointment", args),
            vapi_call_id=vapi_call_id,
        )
    assert first[1]["result"] == HOLDING
    booked = Appointment.objects.get()  # the worker booked it after the answer

    (follow_up,) = send(client, tool_call("book_appointment", args), vapi_call_id=vapi_call_id)
    assert follow_up["result"].startswith("Booked with Dr. Patel")
    assert code_in(follow_up["result"]) == booked.confirmation_code
    deferred, answered = ToolInvocation.objects.filter(name="book_appointment").order_by("id")
    assert answered.follows_id == deferred.pk
    deferred.refresh_from_db()
    assert deferred.delivered_at is not None

    send(client, tool_call("cancel_appointment", {"confirmation_code": booked.confirmation_code}))
    (again,) = send(client, tool_call("book_appointment", args), vapi_call_id=vapi_call_id)
    assert again["result"].startswith("Booked with Dr. Patel")
    assert code_in(again["result"]) != booked.confirmation_code
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1
    assert at(monday, "10:00") == Appointment.objects.get(status=AppointmentStatus.BOOKED).starts_at


def test_a_follow_up_while_the_deferred_run_is_still_going_holds_and_the_next_one_hears_it(
    client, slow_tool, django_capture_on_commit_callbacks
):
    vapi_call_id = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (first,) = send(client, tool_call("slow_tool", {"seconds": 0.6}), vapi_call_id=vapi_call_id)
        (early,) = send(client, tool_call("slow_tool", {"seconds": 0.6}), vapi_call_id=vapi_call_id)
    assert first["result"] == early["result"] == HOLDING
    assert len(RUNS) == 1  # the early follow-up did not start a second run
    for callback in callbacks:
        callback()
    (later,) = send(client, tool_call("slow_tool", {"seconds": 0.6}), vapi_call_id=vapi_call_id)
    assert later["result"] == "slept 0.6"
    assert len(RUNS) == 2  # the worker's run; nothing else


# --- legacy function-call ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture", ["legacy/function-call.json", "legacy/function-call-string-parameters.json"]
)
def test_legacy_function_call_is_answered_with_result(client, resource, fixture):
    body = load_fixture(fixture)
    assert body["message"]["type"] == "function-call"
    response = post(client, body)
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"result"}
    assert answer["result"].startswith("The next free times with Dr. Patel are ")
    assert "\n" not in answer["result"]
    row = ToolInvocation.objects.get()
    assert (row.name, row.arguments, row.outcome) == (
        "check_availability",
        {"resource": "Dr. Patel", "count": 2},
        ToolOutcome.AVAILABILITY,
    )
    assert row.vapi_call_id == body["message"]["call"]["id"]

    again = post(client, body)  # a redelivery: the same answer, from the record
    assert again.json() == answer
    assert ToolInvocation.objects.count() == 1


def test_legacy_function_call_errors_are_spoken_in_the_same_shape(client, resource):
    body = load_fixture("legacy/function-call.json")
    body["message"]["functionCall"] = {"name": "check_availability", "parameters": {"count": 50}}
    assert post(client, body).json() == {"result": "I can offer between 1 and 10 times."}

    body["message"]["functionCall"] = {"name": "no_such_tool", "parameters": "{}"}
    body["message"]["timestamp"] += 1
    assert post(client, body).json() == {"result": "I can't do that: the tool no_such_tool does not exist."}

    for broken in (None, "book", {"parameters": {}}, {"name": ""}):
        body["message"]["functionCall"] = broken
        body["message"]["timestamp"] += 1
        assert post(client, body).json() == {"result": LEGACY_MALFORMED}

    body["message"]["functionCall"] = {"name": "check_availability", "parameters": "{not json"}
    body["message"]["timestamp"] += 1
    assert post(client, body).json() == {
        "result": "I couldn't read the details for that request. Please try again."
    }


def test_legacy_function_call_acts_for_the_caller_only(client, resource, monday):
    victim = CustomerFactory(number=OTHER, name="Omar Castillo")
    body = load_fixture("legacy/function-call.json")
    body["message"]["functionCall"] = {
        "name": "book_appointment",
        "parameters": json.dumps({"date": monday.isoformat(), "time": "10:00", "customer_id": victim.pk}),
    }
    answer = post(client, body).json()["result"]
    assert answer.startswith("Booked with Dr. Patel")
    assert Appointment.objects.get().customer.number == CALLER
    assert not victim.appointments.exists()


def test_book_deferred_then_cancel_then_book_again_books_anew(
    client, slow_tool, resource, monday, django_capture_on_commit_callbacks
):
    """The issue's case: nobody asked again in between, so the second booking is not a
    follow-up of the deferred one and must not replay its (now cancelled) confirmation."""
    ToolFactory(name="book_appointment", timeout_seconds=0.3)
    vapi_call_id = str(uuid.uuid4())
    args = {"date": monday.isoformat(), "time": "10:00"}
    with django_capture_on_commit_callbacks(execute=True):
        send(
            client,
            tool_call("slow_tool", {"seconds": 0.6}),
            tool_call("book_appointment", args),
            vapi_call_id=vapi_call_id,
        )
    first = Appointment.objects.get()
    (cancelled,) = send(
        client,
        tool_call("cancel_appointment", {"confirmation_code": first.confirmation_code}),
        vapi_call_id=vapi_call_id,
    )
    assert cancelled["result"].startswith("Cancelled")
    (again,) = send(client, tool_call("book_appointment", args), vapi_call_id=vapi_call_id)
    assert again["result"].startswith("Booked with Dr. Patel")
    assert code_in(again["result"]) != first.confirmation_code
    assert ToolInvocation.objects.filter(name="book_appointment", follows__isnull=False).count() == 0
    assert Appointment.objects.get(status=AppointmentStatus.BOOKED).confirmation_code == code_in(
        again["result"]
    )


def test_two_deferred_calls_asked_again_together_each_hear_their_own_result(
    client, slow_tool, django_capture_on_commit_callbacks
):
    vapi_call_id = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        first = send(
            client,
            tool_call("slow_tool", {"seconds": 0.5}),
            tool_call("slow_tool", {"seconds": 0.6}),
            vapi_call_id=vapi_call_id,
        )
    assert [r["result"] for r in first] == [HOLDING, HOLDING]
    again = send(
        client,
        tool_call("slow_tool", {"seconds": 0.5}),
        tool_call("slow_tool", {"seconds": 0.6}),
        vapi_call_id=vapi_call_id,
    )
    assert [r["result"] for r in again] == ["slept 0.5", "slept 0.6"]
    assert len(RUNS) == 3  # the in-request start of the first, then the two worker runs
