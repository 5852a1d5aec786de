"""Envelope parsing and content-derived dedupe keys (CONTRACT §3, §6)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import load_fixture
from voiceops.vapi.messages import EnvelopeError, parse_server_message


def parse(payload: dict):
    body = json.dumps(payload).encode()
    return parse_server_message(body, max_depth=64), body


def key(payload: dict) -> str:
    parsed, body = parse(payload)
    return parsed.dedupe_key(body)


def test_envelope_fields_are_indexed():
    parsed, _ = parse(load_fixture("status-update-ringing.json"))
    assert (parsed.type, parsed.call_id, parsed.timestamp) == (
        "status-update",
        "0195953a-5e2c-7b41-9d8e-3f6a2c1b7e90",
        1741964401930,
    )


def test_a_status_transition_is_keyed_by_call_and_status_not_by_snapshot():
    first = load_fixture("status-update-ended.json")
    redelivered = load_fixture("status-update-ended.json")
    redelivered["message"]["timestamp"] += 5
    redelivered["message"]["call"]["updatedAt"] = "2025-03-14T15:02:40.000Z"
    assert key(first) == key(redelivered)
    assert key(first) != key(load_fixture("status-update-ringing.json"))


def test_one_report_per_call_and_tool_calls_by_their_ids():
    report = load_fixture("end-of-call-report.json")
    later = load_fixture("end-of-call-report.json")
    later["message"]["cost"] = 0.25
    assert key(report) == key(later)
    tools = load_fixture("tool-calls.json")
    reordered = load_fixture("tool-calls.json")
    reordered["message"]["toolCallList"].reverse()
    assert key(tools) == key(reordered)
    reordered["message"]["toolCallList"][0]["id"] = "call_other"
    assert key(tools) != key(reordered)


def test_other_types_are_keyed_by_their_exact_bytes():
    a = load_fixture("transcript-final.json")
    b = load_fixture("transcript-final.json")
    b["message"]["transcript"] = "Something else."
    assert key(a) != key(b)
    assert key(a) == key(load_fixture("transcript-final.json"))


def test_keys_fit_the_column_whatever_the_type():
    assert len(key({"message": {"type": "x" * 100}})) <= 200


@pytest.mark.parametrize("timestamp", ["soon", None, True, float("inf"), 10**30])
def test_unusable_timestamps_are_dropped_not_fatal(timestamp):
    body = json.dumps({"message": {"type": "hang", "timestamp": timestamp}}, allow_nan=True)
    if "Infinity" in body:
        with pytest.raises(EnvelopeError):
            parse_server_message(body.encode(), max_depth=64)
        return
    assert parse_server_message(body.encode(), max_depth=64).timestamp is None


def test_transcript_final_only_type_counts_as_transcript():
    message = load_fixture("transcript-final.json")
    message["message"]["type"] = 'transcript[transcriptType="final"]'
    parsed, _ = parse(message)
    assert parsed.is_transcript and not parsed.is_partial_transcript
    partial, _ = parse(load_fixture("transcript-partial.json"))
    assert partial.volume_type == "transcript-partial"
