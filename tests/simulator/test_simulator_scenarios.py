"""Calls play in Vapi's order, with tool answers fed back into the conversation, and faults on demand."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from tests.conftest import load_fixture
from tests.simulator.conftest import CaptureServer
from voiceops.simulator.config import SimulatorConfig
from voiceops.simulator.delivery import Faults
from voiceops.simulator.resources import call_create, call_delete
from voiceops.simulator.runner import Simulator, running_simulator
from voiceops.simulator.scenarios import ScenarioError, fill_arguments
from voiceops.simulator.store import phone_number_id_for

PHONE = phone_number_id_for("+12125550100")
BOOKING_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "check_availability",
            "parameters": {
                "type": "object",
                "properties": {
                    "date": {"type": "string"},
                    "resource": {"type": "string"},
                    "time_zone": {"type": "string"},
                },
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "book_appointment",
            "parameters": {
                "type": "object",
                "properties": {
                    "starts_at": {"type": "string"},
                    "customer_phone": {"type": "string"},
                    "notes": {"type": "string"},
                },
                "required": ["starts_at"],
            },
        },
    },
    {"type": "function", "function": {"name": "get_customer_info"}},
    {"type": "function", "function": {"name": "opt_out"}},
]


def place(
    sim: Simulator, url: str, *, assistant: dict[str, Any] | None = None, wait: bool = True, **call: Any
) -> str:
    body = {
        "name": "Front desk",
        "firstMessage": "Hi {{customerName}}, this is the front desk.",
        "endCallMessage": "Goodbye!",
        "server": {"url": url},
        "model": {
            "provider": "openai",
            "model": "gpt-4o",
            "tools": BOOKING_TOOLS,
            "messages": [{"role": "system", "content": "You book appointments."}],
        },
    }
    body.update(assistant or {})
    stored = sim.store.add("assistants", body)
    request = {
        "assistantId": stored["id"],
        "phoneNumberId": PHONE,
        "customer": {"number": "+15555550123", "name": "Dana Whitfield"},
        "assistantOverrides": {"variableValues": {"customerName": "Dana", "resource": "Dr. Rivera"}},
    }
    request.update(call)
    _, created = call_create(sim, request)
    if wait:
        assert sim.wait_for_calls(timeout=30)
    return created["id"]


def test_booking_call_plays_in_vapi_order_and_feeds_tool_results_back(capture: CaptureServer) -> None:
    with running_simulator(time_factor=300, scenario="books-appointment", seed=5) as sim:
        call_id = place(sim, capture.url)
    types = capture.types(call_id)
    statuses = [c.message["status"] for c in capture.of_type("status-update")]
    assert statuses == ["queued", "ringing", "in-progress", "ended"]
    assert types[:3] == ["status-update"] * 3
    assert types[-2:] == ["status-update", "end-of-call-report"]
    assert "speech-update" in types and "conversation-update" in types
    assert "transcript" not in types, "transcript is not in Vapi's default serverMessages"

    tool_messages = capture.of_type("tool-calls")
    assert [m.message["toolCallList"][0]["function"]["name"] for m in tool_messages] == [
        "check_availability",
        "book_appointment",
    ]
    check, book = (m.message for m in tool_messages)
    tomorrow = check["toolCallList"][0]["function"]["arguments"]["date"]
    assert check["toolCallList"][0]["function"]["arguments"] == {"date": tomorrow, "resource": "Dr. Rivera"}
    assert book["toolCallList"][0]["function"]["arguments"] == {
        "starts_at": f"{tomorrow}T10:00:00",
        "customer_phone": "+15555550123",
        "notes": "Booked by phone",
    }
    assert book["toolWithToolCallList"][0]["toolCall"] == book["toolCallList"][0]
    assert book["toolWithToolCallList"][0]["function"]["name"] == "book_appointment"
    assert types.index("tool-calls") > types.index("status-update", 2)

    # The answer goes into the conversation as tool_call_result, and the assistant reads it out.
    report = capture.of_type("end-of-call-report")[0].message
    history = report["artifact"]["messages"]
    roles = [m["role"] for m in history]
    assert roles[0] == "system" and roles[1] == "bot"
    result_index = roles.index("tool_call_result")
    assert roles[result_index - 1] == "tool_calls"
    book_id = book["toolCallList"][0]["id"]
    book_result = next(m for m in history if m.get("toolCallId") == book_id)
    assert book_result["result"].startswith("book_appointment done:")
    assert history[history.index(book_result) + 1] == {
        **history[history.index(book_result) + 1],
        "role": "bot",
        "message": book_result["result"],
    }
    assert (
        json.loads(
            next(m for m in history if m["role"] == "tool_calls")["toolCalls"][0]["function"]["arguments"]
        )
        == check["toolCallList"][0]["function"]["arguments"]
    )
    assert history[1]["message"] == "Hi Dana, this is the front desk."


def test_end_of_call_report_has_the_fixture_shape(capture: CaptureServer) -> None:
    with running_simulator(time_factor=300, scenario="books-appointment", seed=5) as sim:
        call_id = place(sim, capture.url)
        stored = sim.store.get("calls", call_id)
    report = capture.of_type("end-of-call-report")[0].message
    fixture = load_fixture("end-of-call-report.json")["message"]
    assert set(fixture) <= set(report)
    assert set(fixture["artifact"]) <= set(report["artifact"])
    assert set(fixture["costBreakdown"]) <= set(report["costBreakdown"])
    assert report["endedReason"] == "customer-ended-call"
    assert report["analysis"]["successEvaluation"] == "true"
    assert report["analysis"]["structuredData"]["intent"] == "book_appointment"
    assert "Dana Whitfield called to book" in report["analysis"]["summary"]
    assert report["artifact"]["transcript"].startswith("AI: Hi Dana, this is the front desk.\nUser: ")
    assert report["artifact"]["recordingUrl"].endswith(f"/recordings/{call_id}-mono.wav")
    assert report["cost"] == pytest.approx(sum(c["cost"] for c in report["costs"]), abs=1e-3)
    assert report["costBreakdown"]["total"] == report["cost"]
    assert report["startedAt"] < report["endedAt"]
    assert report["durationSeconds"] > 30, "the simulated clock, not the wall clock"
    assert {c["type"] for c in report["costs"]} >= {
        "transport",
        "transcriber",
        "model",
        "voice",
        "vapi",
        "analysis",
    }
    # GET /call/{id} tells the same story (reconciliation reads it when the report is lost).
    assert stored["status"] == "ended" and stored["endedReason"] == "customer-ended-call"
    assert (
        stored["cost"] == report["cost"]
        and stored["artifact"]["transcript"] == report["artifact"]["transcript"]
    )
    assert stored["startedAt"] == report["startedAt"] and stored["endedAt"] == report["endedAt"]


@pytest.mark.parametrize(
    ("outcome", "statuses", "reason", "connected"),
    [
        ("busy", ["queued", "ringing", "ended"], "customer-busy", False),
        ("no-answer", ["queued", "ringing", "ended"], "customer-did-not-answer", False),
        ("failed", ["queued", "ended"], "twilio-failed-to-connect-call", False),
        ("voicemail", ["queued", "ringing", "in-progress", "ended"], "voicemail", True),
    ],
)
def test_outcomes_end_with_vapi_reasons(
    capture: CaptureServer, outcome: str, statuses: list[str], reason: str, connected: bool
) -> None:
    with running_simulator(time_factor=500, outcome=outcome, seed=2) as sim:
        assistant = {"voicemailMessage": "Please call us back.", "voicemailDetection": {"provider": "vapi"}}
        call_id = place(sim, capture.url, assistant=assistant)
    assert [c.message["status"] for c in capture.of_type("status-update")] == statuses
    assert capture.of_type("status-update")[-1].message["endedReason"] == reason
    report = capture.of_type("end-of-call-report")[0].message
    assert report["endedReason"] == reason and report["call"]["id"] == call_id
    if connected:
        assert report["artifact"]["messages"][-1]["message"] == "Please call us back."
    else:
        assert report["artifact"]["messages"] == [] and report["cost"] == 0 and report["analysis"] == {}
        assert "startedAt" not in report


@pytest.mark.parametrize("detection", [None, "off", {"provider": "twilio", "enabled": False}])
def test_a_machine_is_a_short_ordinary_call_unless_the_assistant_asked_for_detection(
    capture: CaptureServer, detection: object
) -> None:
    assistant: dict[str, object] = {"voicemailMessage": "Please call us back."}
    if detection is not None:
        assistant["voicemailDetection"] = detection
    with running_simulator(time_factor=500, outcome="voicemail", seed=2) as sim:
        place(sim, capture.url, assistant=assistant)
    report = capture.of_type("end-of-call-report")[0].message
    assert report["endedReason"] == "customer-ended-call"  # what Vapi says without detection
    spoken = [m["message"] for m in report["artifact"]["messages"] if m["role"] in ("bot", "user")]
    assert "Please call us back." not in spoken and any("voicemail" in m for m in spoken)


def test_the_seed_decides_the_outcome_mix() -> None:
    def draws(seed: int) -> list[tuple[str, str, str]]:
        with running_simulator(seed=seed, play_calls=False) as sim:
            return [(o, r, s.name) for o, r, s, _ in (sim.draw() for _ in range(40))]

    first, again, other = draws(11), draws(11), draws(12)
    assert first == again and first != other
    outcomes = Counter(o for o, _, _ in first)
    assert outcomes["answered"] > 15 and set(outcomes) <= {
        "answered",
        "busy",
        "no-answer",
        "voicemail",
        "failed",
    }
    assert {r for o, r, _ in first if o == "busy"} <= {"customer-busy"}


def test_slow_tool_answer_triggers_hang_and_failed_answers_are_spoken(capture: CaptureServer) -> None:
    def slow(message: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if message["type"] != "tool-calls":
            return 200, {}
        time.sleep(0.4)
        item = message["toolCallList"][0]
        return 200, {
            "results": [
                {
                    "toolCallId": item["id"],
                    "name": "get_customer_info",
                    "error": "I couldn't find an account for this number.",
                }
            ]
        }

    capture.answer = slow
    with running_simulator(time_factor=500, scenario="account-status", hang_after=0.05) as sim:
        place(sim, capture.url)
    types = capture.types()
    assert types.index("tool-calls") < types.index("hang")
    history = capture.of_type("end-of-call-report")[0].message["artifact"]["messages"]
    result = next(m for m in history if m["role"] == "tool_call_result")
    assert result["result"] == "I couldn't find an account for this number."


def test_non_200_tool_answer_means_no_result(capture: CaptureServer) -> None:
    capture.answer = lambda message: (
        (500, {"detail": "boom"}) if message["type"] == "tool-calls" else (200, {})
    )
    with running_simulator(time_factor=500, scenario="account-status") as sim:
        place(sim, capture.url)
    history = capture.of_type("end-of-call-report")[0].message["artifact"]["messages"]
    assert next(m for m in history if m["role"] == "tool_call_result")["result"] == "No result returned."


def test_tools_the_assistant_lacks_are_never_called(capture: CaptureServer) -> None:
    with running_simulator(time_factor=500, scenario="books-appointment") as sim:
        place(sim, capture.url, assistant={"model": {"provider": "openai", "tools": []}})
    assert capture.of_type("tool-calls") == []
    assert capture.of_type("end-of-call-report")


def test_server_messages_subscription_filters_and_transcripts(capture: CaptureServer) -> None:
    with running_simulator(time_factor=500, scenario="opt-out") as sim:
        place(
            sim,
            capture.url,
            assistant={"serverMessages": ["status-update", "transcript", "end-of-call-report"]},
        )
    assert set(capture.types()) == {"status-update", "transcript", "tool-calls", "end-of-call-report"}
    finals = [c.message for c in capture.of_type("transcript") if c.message["transcriptType"] == "final"]
    assert finals[1] == {
        **finals[1],
        "role": "user",
        "transcript": "Please stop calling me. Take me off your list.",
    }
    assert any(c.message["transcriptType"] == "partial" for c in capture.of_type("transcript"))
    assert capture.of_type("status-update")[-1].message["endedReason"] == "assistant-said-end-call-phrase"


def test_fault_duplicates_and_dropped_report(capture: CaptureServer) -> None:
    with running_simulator(
        time_factor=500, outcome="busy", faults=Faults(duplicate_rate=1.0, drop_report_rate=1.0)
    ) as sim:
        call_id = place(sim, capture.url)
        dropped = [d for d in sim.deliveries(call_id) if d.injected == "drop"]
    assert Counter(capture.types()) == {"status-update": 6}
    assert [d.type for d in dropped] == ["end-of-call-report"]


def test_fault_shuffle_reorders_but_delivers_everything(capture: CaptureServer) -> None:
    with running_simulator(time_factor=500, scenario="hangs-up", seed=4) as sim:
        place(sim, capture.url)
    in_order = capture.types()
    capture.received.clear()
    with running_simulator(time_factor=500, scenario="hangs-up", seed=4, faults=Faults(shuffle=True)) as sim:
        place(sim, capture.url)
    shuffled = capture.types()
    assert Counter(shuffled) == Counter(in_order)
    assert shuffled != in_order


def test_fault_failing_and_slow_deliveries(capture: CaptureServer) -> None:
    with running_simulator(time_factor=500, outcome="busy", faults=Faults(fail_rate=1.0)) as sim:
        call_id = place(sim, capture.url)
        lost = sim.deliveries(call_id)
    assert capture.received == [] and {d.injected for d in lost} == {"fail"} and len(lost) == 4
    with running_simulator(
        time_factor=500, outcome="busy", faults=Faults(slow_rate=1.0, slow_seconds=0.01)
    ) as sim:
        place(sim, capture.url)
    assert len(capture.received) == 4


def test_backoff_plan_retries_failed_deliveries(capture: CaptureServer) -> None:
    attempts: Counter[str] = Counter()

    def flaky(message: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = f"{message['type']}:{message.get('status')}"
        attempts[key] += 1
        return (503, {}) if attempts[key] == 1 else (200, {})

    capture.answer = flaky
    with running_simulator(time_factor=500, outcome="busy") as sim:
        place(
            sim,
            capture.url,
            assistant={
                "server": {
                    "url": capture.url,
                    "backoffPlan": {"type": "fixed", "maxRetries": 2, "baseDelaySeconds": 0},
                }
            },
        )
    assert set(attempts.values()) == {2}


def test_inbound_asks_voiceops_for_the_assistant_first(capture: CaptureServer) -> None:
    with running_simulator(time_factor=500, server_url=capture.url) as sim:
        chosen = sim.store.add(
            "assistants",
            {"name": "Night line", "firstMessage": "Night line, hello.", "server": {"url": capture.url}},
        )
        capture.answer = lambda m: (
            (
                200,
                {
                    "assistantId": chosen["id"],
                    "assistantOverrides": {"variableValues": {"customerId": "c-9"}},
                },
            )
            if m["type"] == "assistant-request"
            else (200, {})
        )
        call = sim.simulate_inbound(from_number="+15555550123", to_number="+12125550100", scenario="hangs-up")
        assert sim.wait_for_calls(timeout=30)
        stored = sim.store.get("calls", call["id"])
    assert capture.types()[0] == "assistant-request"
    request = capture.received[0].message
    assert request["call"]["type"] == "inboundPhoneCall" and request["customer"]["number"] == "+15555550123"
    assert request["phoneNumber"]["number"] == "+12125550100"
    later = capture.received[1:]
    assert [c.message["status"] for c in later if c.type == "status-update"] == ["in-progress", "ended"]
    assert {c.message["call"]["assistantId"] for c in later} == {chosen["id"]}
    assert later[0].message["assistant"]["name"] == "Night line"
    assert stored["assistantId"] == chosen["id"]
    assert stored["artifact"]["messages"][0]["message"].startswith("Night")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"error": "We are closed."}, "assistant-request-returned-error"),
        ({"destination": {"type": "number", "number": "+15555550199"}}, "assistant-forwarded-call"),
        ({}, "assistant-request-returned-no-assistant"),
        (
            {"assistantId": "7d4c0b5e-1111-4a2b-9c3d-000000000000"},
            "assistant-request-returned-invalid-assistant",
        ),
    ],
)
def test_inbound_answers_that_end_the_call(
    capture: CaptureServer, answer: dict[str, Any], reason: str
) -> None:
    capture.answer = lambda m: (200, answer) if m["type"] == "assistant-request" else (200, {})
    with running_simulator(time_factor=500, server_url=capture.url) as sim:
        sim.simulate_inbound(from_number="+15555550123", to_number="+12125550100")
        assert sim.wait_for_calls(timeout=30)
    assert capture.of_type("status-update")[-1].message["endedReason"] == reason


def test_deleting_a_live_call_ends_it(capture: CaptureServer) -> None:
    with running_simulator(time_factor=5, scenario="books-appointment") as sim:
        call_id = place(sim, capture.url, wait=False)
        deadline = time.monotonic() + 10
        while "in-progress" not in [c.message.get("status") for c in capture.of_type("status-update")]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        call_delete(sim, call_id)
        assert sim.wait_for_calls(timeout=10)
        assert sim.store.get("calls", call_id) is None
    last = capture.of_type("status-update")[-1].message
    assert (last["status"], last["endedReason"]) == ("ended", "call-deleted")
    assert capture.of_type("end-of-call-report") == []


def test_scheduled_call_waits_for_earliest_at(capture: CaptureServer) -> None:
    with running_simulator(time_factor=500, outcome="busy") as sim:
        call_id = place(sim, capture.url, schedulePlan={"earliestAt": "2020-01-01T00:00:00Z"})
    assert capture.types(call_id)[0] == "status-update"
    assert [c.message["status"] for c in capture.of_type("status-update")] == ["queued", "ringing", "ended"]


def test_argument_filling_follows_the_tool_schema() -> None:
    hints = {
        "date": "2030-01-02",
        "time": "10:00",
        "starts_at": "2030-01-02T10:00:00",
        "phone": "+15555550123",
        "resource": "",
        "name": "Dana",
    }
    schema = {
        "type": "object",
        "properties": {
            "start_time": {"type": "string"},
            "caller_phone": {"type": "string"},
            "customer_name": {"type": "string"},
            "count": {"type": "integer"},
        },
    }
    assert fill_arguments(hints, schema) == {
        "start_time": "2030-01-02T10:00:00",
        "caller_phone": "+15555550123",
        "customer_name": "Dana",
    }
    assert fill_arguments(hints, None) == {k: v for k, v in hints.items() if v}


def test_bad_scenario_configuration_is_refused(tmp_path: Any) -> None:
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'"):
        Simulator(SimulatorConfig(scenario="nope"))
    with pytest.raises(ScenarioError, match="unknown outcome"):
        Simulator(SimulatorConfig(outcome="maybe"))
    (tmp_path / "broken.yaml").write_text("turns: []\n")
    with pytest.raises(ScenarioError, match="non-empty 'turns'"):
        Simulator(SimulatorConfig(scenario_dir=str(tmp_path)))
    (tmp_path / "broken.yaml").write_text("turns: [{sing: la}]\n")
    with pytest.raises(ScenarioError, match="turn 0 must have"):
        Simulator(SimulatorConfig(scenario_dir=str(tmp_path)))
    with pytest.raises(ScenarioError, match="no outcome mix"):
        Simulator(SimulatorConfig(mix="mix-nope"))


def test_unset_call_variables_render_empty_and_are_not_sent(capture: CaptureServer) -> None:
    with running_simulator(time_factor=500, scenario="books-appointment", seed=5) as sim:
        place(sim, capture.url, assistantOverrides={"variableValues": {"customerName": "Dana"}})
    check = capture.of_type("tool-calls")[0].message["toolCallList"][0]["function"]["arguments"]
    assert "resource" not in check and check["date"]
    assert "{var:" not in capture.of_type("end-of-call-report")[0].message["artifact"]["transcript"]


def test_inbound_follows_the_numbers_binding_like_vapi(capture: CaptureServer) -> None:
    """A bound number never sends assistant-request; PATCHing it unbound makes the next call ask."""
    from voiceops.simulator.resources import phone_number_update

    with running_simulator(time_factor=500, server_url=capture.url) as sim:
        bound_to = sim.store.add("assistants", {"name": "Desk", "server": {"url": capture.url}})
        phone_id = phone_number_id_for("+12125550100")
        phone_number_update(sim, phone_id, {"assistantId": bound_to["id"]})
        first = sim.simulate_inbound(
            from_number="+15555550123", to_number="+12125550100", scenario="hangs-up"
        )
        assert sim.wait_for_calls(timeout=30)
        asked_while_bound = [c for c in capture.received if c.type == "assistant-request"]

        phone_number_update(sim, phone_id, {"assistantId": None, "server": {"url": capture.url}})
        capture.answer = lambda m: (
            (200, {"assistantId": bound_to["id"]}) if m["type"] == "assistant-request" else (200, {})
        )
        second = sim.simulate_inbound(
            from_number="+15555550123", to_number="+12125550100", scenario="hangs-up"
        )
        assert sim.wait_for_calls(timeout=30)
    assert asked_while_bound == []
    assert {c.message["call"]["id"] for c in capture.received if c.type == "assistant-request"} == {
        second["id"]
    }
    assert first["assistantId"] == bound_to["id"] and "assistantId" not in second


def _tool_answers(answers: dict[str, str | dict[str, str]]):
    """A voiceops stand-in that answers each tool by name (a str is a result)."""

    def answer(message: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if message["type"] != "tool-calls":
            return 200, {}
        item = message["toolCallList"][0]
        given = answers.get(item["function"]["name"], "Done.")
        body = given if isinstance(given, dict) else {"result": given}
        return 200, {"results": [{"toolCallId": item["id"], **body}]}

    return answer


def test_analysis_follows_a_booking_that_went_through(capture: CaptureServer) -> None:
    capture.answer = _tool_answers(
        {"check_availability": "10:00 is free.", "book_appointment": "You're booked for 10:00 tomorrow."}
    )
    with running_simulator(time_factor=300, scenario="books-appointment", seed=5) as sim:
        place(sim, capture.url)
    analysis = capture.of_type("end-of-call-report")[0].message["analysis"]
    assert analysis["successEvaluation"] == "true" and analysis["structuredData"]["booked"] is True
    assert "booked it" in analysis["summary"]


@pytest.mark.parametrize(
    "booking",
    [
        "Sorry, 10:00 was just taken. The next free time is 10:30.",
        {"error": "The booking service is unavailable."},
    ],
)
def test_analysis_follows_a_booking_that_failed(capture: CaptureServer, booking: Any) -> None:
    capture.answer = _tool_answers({"check_availability": "10:00 is free.", "book_appointment": booking})
    with running_simulator(time_factor=300, scenario="books-appointment", seed=5) as sim:
        place(sim, capture.url)
    analysis = capture.of_type("end-of-call-report")[0].message["analysis"]
    assert analysis["successEvaluation"] == "false"
    assert analysis["structuredData"]["booked"] is False
    assert "booked it" not in analysis["summary"] and "it was not booked" in analysis["summary"]
    spoken = booking if isinstance(booking, str) else booking["error"]
    assert spoken.rstrip(".") in analysis["summary"]
