"""One line per Vapi fixture and what posting it must do (Zulip's webhook-test style).

Each fixture is posted, authenticated, to POST /webhooks/vapi/ with the call's assistant
and phone number known; the line names the answer and the effect on the ledger and the
Call. ``test_every_fixture_has_a_line`` keeps the table complete as fixtures are added.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from assistants.models import NumberMode, PhoneNumber
from calls.enums import CallStatus, Direction, EventState, Outcome, TurnSource
from calls.models import Call, Customer, TranscriptTurn, WebhookEvent
from calls.outcomes import outcome_for_ended_reason
from tests.conftest import FIXTURES, load_fixture
from tests.factories import AssistantFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

CALL_ID = "0195953a-5e2c-7b41-9d8e-3f6a2c1b7e90"
INBOUND_CALL_ID = "0195957c-18a4-7c03-8e5f-6b2d9a4e0c17"
ASSISTANT_VAPI_ID = "a3f1c9e2-4b6d-4e8a-9c1f-7d2e5b8a0c34"
PHONE_VAPI_ID = "9e4b2d71-3c5a-4f88-b1d6-0a7c3e9f5b12"
TRANSFER_TO = "+13125550142"


@pytest.fixture
def line():
    """The assistant and the Northwind line the fixtures' calls run on: a routed number (Vapi
    sends assistant-request only for those) whose default assistant answers when no rule matches."""
    assistant = AssistantFactory(vapi_id=ASSISTANT_VAPI_ID, pushed_version=7)
    return PhoneNumberFactory(
        vapi_id=PHONE_VAPI_ID,
        number="+12125550187",
        mode=NumberMode.ROUTED,
        assistant=assistant,
        transfer_destination=TRANSFER_TO,
    )


def call() -> Call:
    return Call.objects.get(vapi_id=CALL_ID)


def event(message_type: str) -> WebhookEvent:
    return WebhookEvent.objects.get(message_type=message_type)


def turns() -> list[tuple[str, str, str]]:
    return [(t.role, t.text, t.source) for t in TranscriptTurn.objects.filter(call__vapi_id=CALL_ID)]


# --- expected effects ------------------------------------------------------------------


def linked_call(status: str) -> Callable[[dict, PhoneNumber], None]:
    def check(answer: dict, line: PhoneNumber) -> None:
        assert answer == {}
        c = call()
        assert c.status == status
        assert c.direction == Direction.OUTBOUND
        assert c.assistant == line.assistant and c.assistant_version == 7
        assert c.phone_number == line
        assert c.customer.name == "Dana Whitfield" and str(c.customer.number) == "+14155550123"
        assert event("status-update").state == EventState.PROCESSED

    return check


def in_progress(answer: dict, line: PhoneNumber) -> None:
    linked_call(CallStatus.IN_PROGRESS)(answer, line)
    assert call().started_at.isoformat() == "2025-03-14T15:00:06.218000+00:00"


def stored_only(message_type: str) -> Callable[[dict, PhoneNumber], None]:
    """High-volume types: kept in the ledger, marked ignored, nothing processed."""

    def check(answer: dict, line: PhoneNumber) -> None:
        assert answer == {}
        assert event(message_type).state == EventState.IGNORED
        assert not Call.objects.exists()

    return check


def final_transcript(answer: dict, line: PhoneNumber) -> None:
    assert answer == {}
    expected_text = "Yes, sure. Where is my order NW-48213? And is the Portland store open tomorrow?"
    assert turns() == [("user", expected_text, TurnSource.LIVE)]
    assert TranscriptTurn.objects.get().seconds_from_start == pytest.approx(13.5)


def conversation(answer: dict, line: PhoneNumber) -> None:
    assert answer == {}
    assert [role for role, _, _ in turns()] == ["system", "assistant", "user"]
    assert turns()[1][1].startswith("Hi Dana, this is Riley")


def call_touched(message_type: str) -> Callable[[dict, PhoneNumber], None]:
    def check(answer: dict, line: PhoneNumber) -> None:
        assert answer == {}
        assert event(message_type).state == EventState.PROCESSED
        assert call().status == CallStatus.QUEUED  # a snapshot's status is not trusted
        assert call().assistant == line.assistant

    return check


def tool_results(answer: dict, line: PhoneNumber) -> None:
    ids = [r["toolCallId"] for r in answer["results"]]
    assert ids == ["call_Q7xW2mL9kP4rT8vN1bH6cJ3d", "call_Z3nB8vC5xM1qW7eR4tY9uI2o"]
    assert all(isinstance(r.get("result", r.get("error")), str) for r in answer["results"])
    stored = event("tool-calls")
    assert stored.response == answer and stored.state == EventState.PROCESSED


def transfer(answer: dict, line: PhoneNumber) -> None:
    assert answer["destination"]["type"] == "number"
    assert answer["destination"]["number"] == TRANSFER_TO
    assert event("transfer-destination-request").response == answer


def ended(answer: dict, line: PhoneNumber) -> None:
    assert answer == {}
    c = call()
    assert (c.status, c.ended_reason, c.outcome) == (
        "ended",
        "assistant-said-end-call-phrase",
        Outcome.COMPLETED,
    )
    assert c.ended_at.isoformat() == "2025-03-14T15:02:37.844000+00:00"
    assert not c.has_final_report


def report(answer: dict, line: PhoneNumber) -> None:
    assert answer == {}
    c = call()
    assert c.status == CallStatus.ENDED and c.has_final_report
    assert (c.ended_reason, c.outcome) == ("assistant-said-end-call-phrase", Outcome.COMPLETED)
    assert c.duration_seconds == pytest.approx(151.626)
    assert c.cost == Decimal("0.242")
    assert c.cost_breakdown["total"] == 0.242 and len(c.cost_breakdown["costs"]) == 8
    assert c.recording_url.endswith("-mono.mp3") and c.stereo_recording_url.endswith("-stereo.mp3")
    assert c.summary.startswith("Dana asked about order NW-48213")
    assert c.structured_data == {"order_number": "NW-48213", "wants_human": False, "issue_resolved": True}
    assert c.success_evaluation == "true"
    assert c.transcript_text.startswith("AI: Hi Dana")
    assert c.assistant_version == 7
    report_turns = turns()
    assert len(report_turns) == 12 and {source for _, _, source in report_turns} == {TurnSource.REPORT}
    assert [role for role, _, _ in report_turns][3:6] == ["assistant", "tool_calls", "tool_call_result"]


def assistant_for_caller(answer: dict, line: PhoneNumber) -> None:
    assert answer == {
        "assistantId": ASSISTANT_VAPI_ID,
        "assistantOverrides": {"variableValues": {"customerName": "there"}},
    }
    inbound = Call.objects.get(vapi_id=INBOUND_CALL_ID)
    assert inbound.direction == Direction.INBOUND and inbound.status == CallStatus.RINGING
    assert (
        inbound.phone_number == line
        and inbound.assistant == line.assistant
        and inbound.assistant_version == 7
    )
    assert str(inbound.customer.number) == "+16175550146"
    assert event("assistant-request").response == answer
    assert inbound.routing.rule is None and inbound.routing.assistant == line.assistant
    assert inbound.routing.reason == "No rule matched: the number's default assistant"


def every_ended_reason_grouped(answer: dict, line: PhoneNumber) -> None:
    reasons = load_fixture("ended-reasons.json")["values"]
    assert len(reasons) == 604
    assert all(outcome_for_ended_reason(reason) in Outcome for reason in reasons)
    assert answer == {}
    assert (call().ended_reason, call().outcome) == ("customer-busy", Outcome.BUSY)


LINES: dict[str, Callable[[dict, PhoneNumber], None]] = {
    "status-update-ringing.json": linked_call(CallStatus.RINGING),
    "status-update-in-progress.json": in_progress,
    "speech-update.json": stored_only("speech-update"),
    "transcript-partial.json": stored_only("transcript"),
    "transcript-final.json": final_transcript,
    "conversation-update.json": conversation,
    "hang.json": call_touched("hang"),
    "tool-calls.json": tool_results,
    "transfer-destination-request.json": transfer,
    "user-interrupted.json": call_touched("user-interrupted"),
    "status-update-ended.json": ended,
    "end-of-call-report.json": report,
    "assistant-request.json": assistant_for_caller,
    "ended-reasons.json": every_ended_reason_grouped,
}


def payload_for(name: str) -> dict:
    if name == "ended-reasons.json":  # not a message: its values arrive in status updates
        message = load_fixture("status-update-ended.json")
        message["message"]["endedReason"] = "customer-busy"
        return message
    return load_fixture(name)


@pytest.mark.parametrize("name", sorted(LINES))
def test_fixture(name, line, vapi_post):
    response = vapi_post(payload_for(name))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    LINES[name](response.json(), line)


def test_every_fixture_has_a_line():
    assert sorted(p.name for p in Path(FIXTURES).glob("*.json")) == sorted(LINES)


@pytest.mark.parametrize("name", sorted(n for n in LINES if n != "ended-reasons.json"))
def test_each_fixture_twice_is_stored_once_and_answered_the_same(name, line, vapi_post):
    first = vapi_post(payload_for(name))
    second = vapi_post(payload_for(name))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert WebhookEvent.objects.count() == 1


def test_unknown_caller_becomes_a_customer_and_a_known_caller_is_greeted_by_name(line, vapi_post):
    Customer.objects.create(number="+16175550146", name="Priya Raman", email="priya@example.com")
    answer = vapi_post(load_fixture("assistant-request.json")).json()
    assert answer["assistantOverrides"]["variableValues"] == {
        "customerName": "Priya Raman",
        "customerEmail": "priya@example.com",
    }


def test_assistant_request_for_an_unknown_number_is_a_spoken_error(vapi_post):
    answer = vapi_post(load_fixture("assistant-request.json")).json()
    assert set(answer) == {"error"} and answer["error"].endswith(".")


def test_assistant_request_for_a_number_without_a_pushed_assistant_is_a_spoken_error(vapi_post):
    PhoneNumberFactory(
        vapi_id=PHONE_VAPI_ID,
        number="+12125550187",
        mode=NumberMode.ROUTED,
        assistant=AssistantFactory(vapi_id=None),
    )
    answer = vapi_post(load_fixture("assistant-request.json")).json()
    assert set(answer) == {"error"}
    assert Call.objects.get(vapi_id=INBOUND_CALL_ID).direction == Direction.INBOUND


def test_transfer_without_a_configured_destination_is_a_spoken_error(vapi_post):
    PhoneNumberFactory(vapi_id=PHONE_VAPI_ID, number="+12125550187", transfer_destination="")
    answer = vapi_post(load_fixture("transfer-destination-request.json")).json()
    assert set(answer) == {"error"}


def test_knowledge_base_request_gets_a_valid_empty_answer(vapi_post):
    message = load_fixture("hang.json")
    message["message"]["type"] = "knowledge-base-request"
    response = vapi_post(message)
    assert response.status_code == 200 and response.json() == {"documents": []}


def test_report_before_any_status_update_still_yields_a_complete_call(line, vapi_post):
    vapi_post(load_fixture("end-of-call-report.json"))
    vapi_post(load_fixture("status-update-in-progress.json"))
    vapi_post(load_fixture("transcript-final.json"))
    c = call()
    assert c.status == CallStatus.ENDED and c.has_final_report and c.outcome == Outcome.COMPLETED
    assert len(turns()) == 12  # late live lines do not touch the report's transcript


def test_partial_transcripts_can_be_counted_instead_of_stored(line, vapi_post, settings):
    from calls.services.events import webhook_event_counts

    settings.VAPI_WEBHOOK_HIGH_VOLUME_MODE = "count"
    before = webhook_event_counts().get("transcript-partial", 0)
    assert vapi_post(load_fixture("transcript-partial.json")).json() == {}
    assert not WebhookEvent.objects.exists()
    assert webhook_event_counts()["transcript-partial"] == before + 1


def test_speech_updates_are_processed_when_not_listed_as_high_volume(line, vapi_post, settings):
    settings.VAPI_WEBHOOK_HIGH_VOLUME_TYPES = []
    vapi_post(load_fixture("speech-update.json"))
    assert event("speech-update").state == EventState.PROCESSED
    assert call().customer.name == "Dana Whitfield"


def test_unknown_type_is_stored_ignored_and_answered_empty(vapi_post):
    message = load_fixture("hang.json")
    message["message"]["type"] = "call.artifact.upload.v9"
    response = vapi_post(message)
    assert response.status_code == 200 and response.json() == {}
    stored = event("call.artifact.upload.v9")
    assert stored.state == EventState.IGNORED and json.loads(stored.body) == message
    assert stored.vapi_call_id == CALL_ID
