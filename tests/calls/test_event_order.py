"""Idempotency and order: one call's events, duplicated and shuffled, end in the same state.

Vapi sends no event ids, may deliver twice and does not keep order (CONTRACT §6). Each
example stores and processes the events through the ledger service exactly as the
webhook view does, then compares the Call, its transcript and its outcome with the
in-order result.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.models import Call, Customer, TranscriptTurn, WebhookEvent
from calls.services.ingest import webhook_receive
from tests.conftest import load_fixture
from voiceops.vapi.messages import parse_server_message

pytestmark = pytest.mark.django_db

CALL_ID = "0195953a-5e2c-7b41-9d8e-3f6a2c1b7e90"
WITH_REPORT = [
    "status-update-ringing.json",
    "status-update-in-progress.json",
    "speech-update.json",
    "transcript-partial.json",
    "transcript-final.json",
    "conversation-update.json",
    "hang.json",
    "user-interrupted.json",
    "status-update-ended.json",
    "end-of-call-report.json",
]
BODIES = {name: json.dumps(load_fixture(name)).encode() for name in WITH_REPORT}

CALL_FIELDS = [
    "direction",
    "status",
    "ended_reason",
    "outcome",
    "started_at",
    "ended_at",
    "duration_seconds",
    "cost",
    "cost_breakdown",
    "recording_url",
    "stereo_recording_url",
    "summary",
    "structured_data",
    "success_evaluation",
    "transcript_text",
    "has_final_report",
    "customer_number",
    "vapi_assistant_id",
    "vapi_call",
    "last_event_at",
]


def deliver(names: list[str], run_on_commit) -> dict:
    """Deliver ``names`` in order from a clean slate; return the resulting call state."""
    WebhookEvent.objects.all().delete()
    Call.objects.all().delete()
    Customer.objects.all().delete()
    for name in names:
        body = BODIES[name]
        with run_on_commit(execute=True):
            webhook_receive(parsed=parse_server_message(body, max_depth=64), body=body, headers={})
    call = Call.objects.get(vapi_id=CALL_ID)
    return {
        "call": {field: getattr(call, field) for field in CALL_FIELDS},
        "customer": (str(call.customer.number), call.customer.name),
        "transcript": list(
            TranscriptTurn.objects.filter(call=call).values_list(
                "position", "role", "text", "seconds_from_start", "source"
            )
        ),
        "events": sorted(WebhookEvent.objects.values_list("message_type", "state")),
    }


_in_order: dict[tuple[str, ...], dict] = {}


def in_order(names: list[str], run_on_commit) -> dict:
    """The in-order result, computed once per list (it does not change between examples)."""
    key = tuple(names)
    if key not in _in_order:
        _in_order[key] = deliver(names, run_on_commit)
    return _in_order[key]


def shuffled_with_duplicates(names: list[str]):
    return st.lists(st.sampled_from(names), max_size=8).flatmap(
        lambda extra: st.permutations([*names, *extra])
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=shuffled_with_duplicates(WITH_REPORT))
def test_duplicated_and_shuffled_events_give_the_in_order_result(order, django_capture_on_commit_callbacks):
    expected = in_order(WITH_REPORT, django_capture_on_commit_callbacks)
    assert expected["call"]["outcome"] == "completed" and len(expected["transcript"]) == 12
    assert deliver(order, django_capture_on_commit_callbacks) == expected


WITHOUT_REPORT = [
    "status-update-ringing.json",
    "status-update-in-progress.json",
    "transcript-final.json",
    "conversation-update.json",
    "status-update-ended.json",
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=shuffled_with_duplicates(WITHOUT_REPORT))
def test_without_a_report_status_and_live_transcript_are_order_independent(
    order, django_capture_on_commit_callbacks
):
    expected = in_order(WITHOUT_REPORT, django_capture_on_commit_callbacks)
    assert expected["call"]["status"] == "ended" and not expected["call"]["has_final_report"]
    assert [t[1] for t in expected["transcript"]] == ["system", "assistant", "user"]
    assert deliver(order, django_capture_on_commit_callbacks) == expected
