"""The call record reads as the conversation: spoken turns in the API's transcript, tool calls
(with their business outcome) in ``tool_invocations``, linked even when they came first."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from calls.models import Call
from calls.services.processors import message_process
from tests.api.conftest import make_key
from tests.calls.conftest import post
from tests.conftest import load_fixture
from tests.factories import CallFactory, ToolInvocationFactory
from tests.tools.conftest import tool_call, tool_message
from tools.models import Appointment, ToolInvocation, ToolOutcome
from voiceops.api.scopes import Scope
from voiceops.vapi.messages import parse_server_message

pytestmark = pytest.mark.django_db

REPORT = load_fixture("end-of-call-report.json")
VAPI_CALL_ID = REPORT["message"]["call"]["id"]


def process(body: dict) -> Call | None:
    return message_process(parsed=parse_server_message(json.dumps(body).encode(), max_depth=64))


@pytest.fixture
def reader() -> APIClient:
    _, key = make_key(Scope.READ)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_tool_calls_before_the_call_row_are_linked_when_it_appears(client, reader, resource, monday):
    message = tool_message(
        tool_call("book_appointment", {"date": monday.isoformat(), "time": "10:00"}),
        vapi_call_id=VAPI_CALL_ID,
    )
    assert post(client, {"message": message}).status_code == 200
    assert not Call.objects.filter(vapi_id=VAPI_CALL_ID).exists()
    invocation = ToolInvocation.objects.get()
    appointment = Appointment.objects.get()
    assert invocation.call_id is None and appointment.call_id is None

    call = process(REPORT)  # the first event that creates the Call row
    assert call is not None
    invocation.refresh_from_db()
    appointment.refresh_from_db()
    assert invocation.call_id == call.pk and appointment.call_id == call.pk

    body = reader.get(f"/api/v1/calls/{call.pk}/").json()
    (shown,) = body["tool_invocations"]
    assert (shown["name"], shown["state"], shown["outcome"]) == ("book_appointment", "succeeded", "booked")


def test_an_invocation_that_committed_after_the_row_was_created_is_linked_by_the_report(db):
    call = CallFactory(vapi_id=VAPI_CALL_ID)
    late = ToolInvocationFactory(vapi_call_id=VAPI_CALL_ID, call=None)
    other = ToolInvocationFactory(vapi_call_id="some-other-call", call=None)
    process(REPORT)
    late.refresh_from_db()
    other.refresh_from_db()
    assert late.call_id == call.pk
    assert other.call_id is None


def test_the_api_transcript_is_the_spoken_conversation_only(reader):
    call = process(REPORT)
    assert call is not None
    history = REPORT["message"]["artifact"]["messages"]
    spoken = [
        {"assistant" if m["role"] == "bot" else "user": m["message"]}
        for m in history
        if m["role"] in ("bot", "user") and m.get("message")
    ]
    body = reader.get(f"/api/v1/calls/{call.pk}/").json()
    assert [{t["role"]: t["text"]} for t in body["transcript"]] == spoken
    system_prompt = next(m["message"] for m in history if m["role"] == "system")
    assert system_prompt not in json.dumps(body)
    assert {t["role"] for t in body["transcript"]} == {"user", "assistant"}
    listed = reader.get("/api/v1/calls/", {"vapi_id": VAPI_CALL_ID}).json()["results"][0]
    assert listed["transcript"] == body["transcript"]
    # The admin still has every row, the system prompt included.
    assert call.turns.filter(role="system").exists() and call.turns.filter(role="tool_calls").exists()


def test_each_invocation_records_its_business_outcome(client, resource, monday):
    args = {"date": monday.isoformat(), "time": "10:00"}
    message = tool_message(
        tool_call("book_appointment", args),
        tool_call("check_availability", {}),
        tool_call("cancel_appointment", {"confirmation_code": "ZZZZ99"}),
        tool_call("book_appointment", {"date": monday.isoformat()}),
        tool_call("nope_tool", {}),
        tool_call("get_customer_info", {}),
    )
    post(client, {"message": message})
    post(client, {"message": tool_message(tool_call("book_appointment", args), number="+14155550177")})
    outcomes = list(ToolInvocation.objects.order_by("id").values_list("name", "state", "outcome"))
    assert outcomes == [
        ("book_appointment", "succeeded", ToolOutcome.BOOKED),
        ("check_availability", "succeeded", ToolOutcome.AVAILABILITY),
        ("cancel_appointment", "failed", ToolOutcome.NOT_FOUND),
        ("book_appointment", "failed", ToolOutcome.INVALID),
        ("nope_tool", "failed", ToolOutcome.UNAVAILABLE),
        ("get_customer_info", "succeeded", ToolOutcome.FOUND),
        # "succeeded" (the tool answered) but the caller got nothing booked: the outcome says so.
        ("book_appointment", "succeeded", ToolOutcome.SLOT_TAKEN),
    ]
