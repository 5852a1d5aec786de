"""/api/v1/calls/: the contract's fields, transcript and tool invocations, filters, cursor pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from calls.models import Call
from tests.api.conftest import assert_error
from tests.factories import (
    AssistantFactory,
    CallFactory,
    CampaignFactory,
    ToolInvocationFactory,
    TranscriptTurnFactory,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/calls/"

CONTRACT_FIELDS = {
    "id", "vapi_id", "direction", "status", "ended_reason", "outcome", "started_at", "ended_at",
    "duration_seconds", "cost", "summary", "structured_data", "success_evaluation", "recording_url",
    "customer_number", "assistant", "campaign", "transcript", "tool_invocations",
}  # fmt: skip


def test_detail_carries_the_contract_fields_transcript_and_tool_invocations(reader):
    call = CallFactory(
        status="ended", ended_reason="customer-ended-call", outcome="completed", cost="0.134200",
        duration_seconds=158.2, summary="Booked.", structured_data={"booked": True},
        success_evaluation="true", recording_url="https://storage.vapi.ai/r.wav",
    )  # fmt: skip
    TranscriptTurnFactory(call=call, position=1, role="user", text="Second", seconds_from_start=3.0)
    TranscriptTurnFactory(call=call, position=0, role="assistant", text="First", seconds_from_start=0.5)
    ToolInvocationFactory(
        call=call, tool_call_id="call_1", name="book_appointment", arguments={"day": "tue"}, result="Booked",
        latency_ms=41.5,
    )  # fmt: skip
    body = reader.get(f"{URL}{call.pk}/").json()
    assert CONTRACT_FIELDS <= set(body)
    assert body["vapi_id"] == call.vapi_id and body["cost"] == 0.1342 and body["outcome"] == "completed"
    assert body["transcript"] == [
        {"role": "assistant", "text": "First", "seconds_from_start": 0.5},
        {"role": "user", "text": "Second", "seconds_from_start": 3.0},
    ]
    (invocation,) = body["tool_invocations"]
    keys = ("tool_call_id", "name", "arguments", "result", "error", "latency_ms")
    assert {k: invocation[k] for k in keys} == {
        "tool_call_id": "call_1", "name": "book_appointment", "arguments": {"day": "tue"}, "result": "Booked",
        "error": "", "latency_ms": 41.5,
    }  # fmt: skip


def test_filter_by_vapi_id(reader):
    wanted = CallFactory()
    CallFactory()
    results = reader.get(URL, {"vapi_id": wanted.vapi_id}).json()["results"]
    assert [c["id"] for c in results] == [wanted.pk]


def test_filters_status_outcome_assistant_campaign_number(reader):
    assistant = AssistantFactory()
    campaign = CampaignFactory(assistant=assistant)
    hit = CallFactory(assistant=assistant, campaign=campaign, status="ended", outcome="busy")
    CallFactory(assistant=assistant, campaign=campaign, status="ended", outcome="completed")
    CallFactory(status="ended", outcome="busy")
    params = {
        "status": "ended", "outcome": "busy", "assistant": assistant.pk, "campaign": campaign.pk,
        "customer_number": hit.customer_number,
    }  # fmt: skip
    assert [c["id"] for c in reader.get(URL, params).json()["results"]] == [hit.pk]
    # '+' in a query string arrives as a space; the filter still matches.
    spaced = hit.customer_number.replace("+", " ")
    assert [c["id"] for c in reader.get(URL, {"customer_number": spaced}).json()["results"]] == [hit.pk]


def test_status_filter_accepts_several_values(reader):
    a = CallFactory(status="ringing")
    b = CallFactory(status="in-progress")
    CallFactory(status="queued")
    ids = {c["id"] for c in reader.get(f"{URL}?status=ringing&status=in-progress").json()["results"]}
    assert ids == {a.pk, b.pk}


def test_date_range(reader):
    old = CallFactory()
    Call.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    new = CallFactory()
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert [c["id"] for c in reader.get(URL, {"created_after": since}).json()["results"]] == [new.pk]
    assert [c["id"] for c in reader.get(URL, {"created_before": since}).json()["results"]] == [old.pk]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"status": "exploded"}, "status"),
        ({"assistant": "abc"}, "assistant"),
        ({"assistant": str(2**70)}, "assistant"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"vapi_id": "x" * 65}, "vapi_id"),
    ],
)
def test_bad_filters_are_400_with_the_field(reader, params, field):
    error = assert_error(reader.get(URL, params), 400, "validation_error")
    assert field in error["fields"]


def test_cursor_pagination_walks_every_call_once(reader):
    calls = [CallFactory() for _ in range(7)]
    seen, url = [], f"{URL}?page_size=3"
    while url:
        body = reader.get(url).json()
        assert "count" not in body
        seen += [c["id"] for c in body["results"]]
        url = body["next"]
    assert seen == [c.pk for c in reversed(calls)]


def test_bad_cursor_is_404_json(reader):
    assert_error(reader.get(URL, {"cursor": "garbage"}), 404, "not_found")
