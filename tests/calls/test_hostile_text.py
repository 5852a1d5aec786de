"""NUL and lone surrogates anywhere in a message never cost a call its record (issue 20).

Postgres refuses NUL in text and jsonb (even as a query parameter) and psycopg cannot
encode a lone surrogate. Each test posts through POST /webhooks/vapi/ and checks that the
events are processed without error and the call is as complete as without the bad text.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import responses

from calls.enums import CallStatus, EventState
from calls.models import Call, WebhookEvent
from tests.calls.conftest import URL
from tests.factories import ResourceFactory
from tests.faults.lifecycle import lifecycle_bodies
from tests.tools.conftest import next_weekday, tool_call, tool_message
from tools.models import Appointment
from voiceops.vapi.client import VapiClient
from voiceops.vapi.text import document_storable, may_hold_hostile_text, text_storable

pytestmark = pytest.mark.django_db
HEADERS = {"X-Vapi-Secret": "whsec-current-7a1d"}
NUL = "\u0000"


def with_nul(value: Any) -> Any:
    """Every string (keys too) with a NUL after its first character: stripping restores it."""
    if isinstance(value, str):
        return value[:1] + NUL + value[1:] if value else NUL
    if isinstance(value, dict):
        return {with_nul(k): with_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_nul(v) for v in value]
    return value


def post(client, django_capture_on_commit_callbacks, document: dict[str, Any]):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            URL, data=json.dumps(document).encode(), content_type="application/json", headers=HEADERS
        )


def play(client, django_capture_on_commit_callbacks, *, hostile: bool) -> tuple[Call, list[dict]]:
    """One whole call from the fixtures; returns the call and the tool-calls answers."""
    call_id, bodies = lifecycle_bodies()
    answers = []
    for name, body in bodies:
        document = json.loads(body)
        if hostile:
            # All but the envelope's own type, which is checked as sent (a NUL there is a 400).
            message = with_nul(document["message"])
            message["type"] = document["message"]["type"]
            del message[with_nul("type")]
            document = {"message": message}
            assert b"\\u0000" in json.dumps(document).encode()
        response = post(client, django_capture_on_commit_callbacks, document)
        assert response.status_code == 200, response.content
        if name == "tool-calls.json":
            answers.append(response.json())
    return Call.objects.get(vapi_id=call_id), answers


def call_record(call: Call) -> dict[str, Any]:
    recording = call.recording_url.replace(call.vapi_id, "<id>")
    turns = [(t.role, t.text, t.seconds_from_start, t.source) for t in call.turns.order_by("position")]
    return {
        "status": call.status,
        "ended_reason": call.ended_reason,
        "outcome": call.outcome,
        "cost": call.cost,
        "transcript_text": call.transcript_text,
        "summary": call.summary,
        "structured_data": call.structured_data,
        "customer_number": call.customer_number,
        "started_at": call.started_at,
        "ended_at": call.ended_at,
        "recording_url": recording,
        "turns": turns,
    }


def test_a_nul_in_every_text_field_of_every_message_still_completes_the_call(
    client, django_capture_on_commit_callbacks
):
    clean, clean_answers = play(client, django_capture_on_commit_callbacks, hostile=False)
    hostile, hostile_answers = play(client, django_capture_on_commit_callbacks, hostile=True)

    events = WebhookEvent.objects.filter(vapi_call_id=hostile.vapi_id)
    assert events.count() == 11
    assert set(events.values_list("state", flat=True)) <= {EventState.PROCESSED, EventState.IGNORED}
    assert list(events.exclude(error="").values_list("error", flat=True)) == []
    assert hostile.status == CallStatus.ENDED and hostile.has_final_report
    assert hostile.cost == Decimal("0.242000")
    assert hostile.transcript_text.startswith("AI: Hi Dana")
    assert call_record(hostile) == call_record(clean)
    strip_ids = [
        [{k: v for k, v in r.items() if k != "toolCallId"} for r in a["results"]] for a in clean_answers
    ]
    assert strip_ids == [
        [{k: v for k, v in r.items() if k != "toolCallId"} for r in a["results"]] for a in hostile_answers
    ]


@pytest.mark.parametrize("bad", ["\u0000", "\ud800", "\udfff tail", "\x01\x02\x1f\x7f\u2028"])
def test_hostile_characters_in_the_report_transcript_are_kept_storable(
    client, django_capture_on_commit_callbacks, bad
):
    call_id, bodies = lifecycle_bodies(names=("end-of-call-report.json",))
    document = json.loads(bodies[0][1])
    artifact = document["message"]["artifact"]
    artifact["transcript"] = f"AI: hello{bad}there"
    artifact["messages"][1]["message"] = f"Hi{bad}"
    document["message"]["analysis"]["summary"] = f"sum{bad}mary"
    response = post(client, django_capture_on_commit_callbacks, document)

    assert response.status_code == 200
    event = WebhookEvent.objects.get(vapi_call_id=call_id)
    assert (event.state, event.error) == (EventState.PROCESSED, "")
    call = Call.objects.get(vapi_id=call_id)
    expected = text_storable(bad)
    assert "\x00" not in expected and "\ud800" not in expected
    assert call.status == CallStatus.ENDED and call.has_final_report
    assert call.transcript_text == f"AI: hello{expected}there"
    assert call.summary == f"sum{expected}mary"
    assert call.turns.get(position=1).text == f"Hi{expected}"


@pytest.mark.parametrize("message_type", ["status-update", "transcript", "conversation-update", "hang"])
def test_a_nul_in_the_call_id_is_the_same_call(client, django_capture_on_commit_callbacks, message_type):
    """A NUL in an id is removed, not refused: the event lands on the call the id names."""
    name = {
        "status-update": "status-update-in-progress.json",
        "transcript": "transcript-final.json",
        "conversation-update": "conversation-update.json",
        "hang": "hang.json",
    }[message_type]
    call_id, bodies = lifecycle_bodies(names=(name,))
    document = json.loads(bodies[0][1])
    document["message"]["call"]["id"] = call_id[:4] + NUL + call_id[4:]
    response = post(client, django_capture_on_commit_callbacks, document)
    assert response.status_code == 200
    event = WebhookEvent.objects.get(vapi_call_id=call_id)
    assert (event.state, event.error) == (EventState.PROCESSED, "")
    assert Call.objects.filter(vapi_id=call_id).exists()


def test_a_nul_in_tool_arguments_still_books(client, django_capture_on_commit_callbacks):
    ResourceFactory(name="Dr. Patel", time_zone="America/New_York", slot_minutes=30)
    monday = next_weekday(0)
    arguments = {"date": monday.isoformat() + NUL, "time": "09:" + NUL + "30", "note": NUL * 3}
    message = tool_message(
        tool_call("book_appointment", arguments),
        tool_call("check_availability", json.dumps({"date": NUL + monday.isoformat()})),
    )
    response = post(client, django_capture_on_commit_callbacks, {"message": message})

    assert response.status_code == 200
    booked, availability = response.json()["results"]
    assert booked["result"].startswith("Booked with Dr. Patel"), booked
    assert "result" in availability, availability
    assert Appointment.objects.count() == 1
    event = WebhookEvent.objects.get()
    assert (event.state, event.error) == (EventState.PROCESSED, "")
    assert "\\u0000" not in json.dumps(event.response)


def test_the_cleaning_itself():
    assert text_storable("a\x00b\ud800c\U0001f600") == "ab\ufffdc\U0001f600"
    assert document_storable({"k\x00": ["\x00", {"x": "\udc00"}], "n": 1.5, "b": None}) == {
        "k": ["", {"x": "\ufffd"}],
        "n": 1.5,
        "b": None,
    }
    assert may_hold_hostile_text(r'"\u0000"') and may_hold_hostile_text(r'"\uD83D\uDE00"')
    assert not may_hold_hostile_text('"plain \\n text \\u00e9"')


@responses.activate
def test_the_rest_client_cleans_what_vapi_sends():
    responses.add(
        responses.GET,
        "http://vapi.test/call/c1",
        body=json.dumps({"id": "c1", "summary": "bad\u0000text", "messages": [{"message": "\ud800"}]}),
        content_type="application/json",
    )
    body = VapiClient(base_url="http://vapi.test").call_get("c1")
    assert body == {"id": "c1", "summary": "badtext", "messages": [{"message": "\ufffd"}]}
