"""The webhook endpoint's envelope checks and its promises: clear 4xx JSON errors, never a 500."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError

from calls.enums import EventState
from calls.models import WebhookEvent
from tests.calls.conftest import SECRET, URL, post
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert isinstance(response.json()["error"], str) and response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_declared_length_over_the_limit_is_refused_before_reading(client, settings):
    settings.VAPI_WEBHOOK_MAX_BYTES = 1000
    response = client.generic(
        "POST",
        URL,
        b"{}",
        content_type="application/json",
        headers={"X-Vapi-Secret": SECRET},
        CONTENT_LENGTH="999999999",
    )
    assert_error(response, 413, "too_large")


def test_body_over_the_limit_is_refused(client, settings):
    message = load_fixture("status-update-ringing.json")
    size = len(json.dumps(message).encode())
    settings.VAPI_WEBHOOK_MAX_BYTES = size - 1
    assert_error(post(client, message), 413, "too_large")
    settings.VAPI_WEBHOOK_MAX_BYTES = size
    assert post(client, message).status_code == 200


def test_default_limit_takes_a_large_end_of_call_report(client, settings):
    assert settings.VAPI_WEBHOOK_MAX_BYTES == 8 * 1024 * 1024
    report = load_fixture("end-of-call-report.json")
    report["message"]["artifact"]["transcript"] = "User: hello\n" * 200_000  # ~2.4 MB
    assert post(client, report).status_code == 200


def test_oversize_is_refused_even_without_credentials(client, settings):
    settings.VAPI_WEBHOOK_MAX_BYTES = 10
    assert_error(post(client, b'{"message": {"type": "hang"}}', headers={}), 413, "too_large")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "invalid_json"),
        (b"{not json", "invalid_json"),
        (b'{"message": {"type": "hang", "x": NaN}}', "invalid_json"),
        (b"\xff\xfe{}", "invalid_encoding"),
        (b"[1, 2]", "not_an_object"),
        (b'"message"', "not_an_object"),
        (b"{}", "no_message"),
        (b'{"message": "status-update"}', "no_message"),
        (b'{"message": {}}', "no_type"),
        (b'{"message": {"type": 7}}', "no_type"),
        (b'{"message": {"type": ""}}', "no_type"),
        (b'{"message": {"type": null}}', "no_type"),
        (b'{"message": {"type": "a\\u0000b"}}', "bad_type"),
        (b'{"message": {"type": "\\ud800"}}', "bad_type"),
        (('{"message": {"type": "' + "x" * 101 + '"}}').encode(), "bad_type"),
    ],
)
def test_malformed_envelopes_are_400_with_a_reason(client, body, code):
    assert_error(post(client, body), 400, code)


@pytest.mark.parametrize("depth", [65, 500, 100_000])
def test_json_nested_too_deeply_is_400(client, depth):
    body = b'{"message": {"type": "hang", "x": ' + b"[" * depth + b"]" * depth + b"}}"
    assert_error(post(client, body), 400, "too_deep")


def test_nesting_within_the_limit_is_fine(client):
    body = b'{"message": {"type": "hang", "x": ' + b"[" * 60 + b"]" * 60 + b"}}"
    assert post(client, body).status_code == 200


def test_content_length_that_is_not_a_number_is_400(client):
    response = client.generic(
        "POST",
        URL,
        b"{}",
        content_type="application/json",
        headers={"X-Vapi-Secret": SECRET},
        CONTENT_LENGTH="ten",
    )
    assert_error(response, 400, "bad_content_length")


def test_other_methods_get_a_json_405(client):
    response = client.get(URL, headers={"X-Vapi-Secret": SECRET})
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


def test_no_csrf_or_session_needed(client):
    csrf_client = type(client)(enforce_csrf_checks=True)
    response = post(csrf_client, load_fixture("hang.json"))
    assert response.status_code == 200


def test_message_without_a_call_is_stored_and_ignored(client):
    response = post(client, {"message": {"type": "status-update", "status": "ringing"}})
    assert response.status_code == 200 and response.json() == {}
    assert WebhookEvent.objects.get().state == EventState.IGNORED


def test_odd_field_types_never_cause_a_500(client, vapi_post):
    message = load_fixture("end-of-call-report.json")
    m = message["message"]
    m.update(
        {
            "timestamp": "yesterday",
            "cost": "lots",
            "startedAt": 5,
            "endedAt": None,
            "costs": {"a": 1},
            "analysis": [],
            "artifact": {"messages": [1, "two", {"role": None}], "recording": "x"},
        }
    )
    m["call"]["id"] = "c" * 200  # too long to be a call id: stored, not processed
    response = vapi_post(message)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().state == EventState.IGNORED


def test_stored_row_keeps_raw_body_and_safe_headers(client):
    body = json.dumps(load_fixture("status-update-ringing.json"), indent=3).encode()
    post(client, body, headers={"X-Vapi-Secret": SECRET, "User-Agent": "Vapi/1.0", "X-Request-Id": "r-1"})
    stored = WebhookEvent.objects.get()
    assert stored.body.encode() == body
    assert stored.message_timestamp == 1741964401930
    assert stored.vapi_call_id == "0195953a-5e2c-7b41-9d8e-3f6a2c1b7e90"
    assert stored.headers == {
        "user-agent": "Vapi/1.0",
        "content-type": "application/json",
        "content-length": str(len(body)),
        "x-request-id": "r-1",
        "auth-scheme": "secret",
    }
    assert SECRET not in json.dumps(stored.headers)


# --- request/response types never get a non-200 for payload problems ----------------------


@pytest.mark.parametrize("tool_call_list", ["garbage", None, [1, None, {"id": None}], []])
def test_tool_calls_with_broken_lists_still_get_200(client, tool_call_list):
    message = load_fixture("tool-calls.json")
    message["message"]["toolCallList"] = tool_call_list
    response = post(client, message)
    assert response.status_code == 200
    assert isinstance(response.json().get("results"), list)


def test_a_failing_dispatcher_is_answered_with_a_speakable_error_per_tool_call(client, monkeypatch):
    from tools import dispatcher

    def explode(**kwargs):
        raise RuntimeError("registry on fire")

    monkeypatch.setattr(dispatcher, "tool_calls_answer", explode)
    response = post(client, load_fixture("tool-calls.json"))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["toolCallId"] for r in results] == [
        "call_Q7xW2mL9kP4rT8vN1bH6cJ3d",
        "call_Z3nB8vC5xM1qW7eR4tY9uI2o",
    ]
    assert all(r["error"] for r in results)
    assert WebhookEvent.objects.get().response == response.json()


def test_a_repeated_tool_call_delivery_is_answered_from_the_ledger_without_running_again(client, monkeypatch):
    from tools import dispatcher

    calls: list[int | None] = []
    real = dispatcher.tool_calls_answer

    def counting(*, message, event_id=None, **kwargs):
        calls.append(event_id)
        return real(message=message, event_id=event_id, **kwargs)

    monkeypatch.setattr(dispatcher, "tool_calls_answer", counting)
    first = post(client, load_fixture("tool-calls.json"))
    message = load_fixture("tool-calls.json")
    message["message"]["timestamp"] += 1000  # a redelivery may carry other snapshot values
    second = post(client, message)
    assert first.json() == second.json()
    assert calls == [WebhookEvent.objects.get().pk]


def test_storage_failure_is_503_for_informational_and_a_spoken_error_for_tool_calls(client, monkeypatch):
    from calls.services import ingest

    def broken(**kwargs):
        raise OperationalError("database is down")

    monkeypatch.setattr(ingest, "webhook_event_record", broken)
    assert_error(post(client, load_fixture("status-update-ringing.json")), 503, "storage_unavailable")
    response = post(client, load_fixture("tool-calls.json"))
    assert response.status_code == 200 and all(r["error"] for r in response.json()["results"])


def test_odd_field_types_in_a_report_are_processed_not_failed(vapi_post):
    message = load_fixture("end-of-call-report.json")
    m = message["message"]
    m.update(
        {
            "timestamp": "yesterday",
            "cost": 1e300,
            "startedAt": "not a date",
            "endedReason": {"x": 1},
            "analysis": {"summary": ["a"], "structuredData": "nope", "successEvaluation": 8},
            "costBreakdown": {"total": "NaN\u0000"},
            "artifact": {
                "messages": [1, "two", {"role": None, "message": "hi\u0000"}],
                "recording": "x",
                "recordingUrl": "javascript:alert(1)",
            },
        }
    )
    m.pop("messages")
    assert vapi_post(message).status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.state == EventState.PROCESSED, stored.traceback
    from calls.models import Call

    call = Call.objects.get()
    assert call.status == "ended" and call.has_final_report
    assert call.cost is None and call.recording_url == "" and call.success_evaluation == "8"
    assert call.turns.get().text == "hi"


def test_an_odd_accept_header_never_makes_a_406(client):
    response = client.post(
        URL,
        data=json.dumps(load_fixture("tool-calls.json")),
        content_type="application/json",
        headers={"X-Vapi-Secret": SECRET, "Accept": "text/csv"},
    )
    assert response.status_code == 200 and response.json()["results"]


def test_a_dispatcher_answer_that_is_not_json_gets_the_fallback(client, monkeypatch):
    from tools import dispatcher

    monkeypatch.setattr(dispatcher, "tool_calls_answer", lambda **kwargs: {"results": [{"result": object()}]})
    response = post(client, load_fixture("tool-calls.json"))
    assert response.status_code == 200 and all(r["error"] for r in response.json()["results"])


# --- hot path budget (DESIGN.md "Hot paths") -------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["status-update-in-progress.json", "transcript-final.json", "conversation-update.json", "hang.json"],
)
def test_an_informational_webhook_costs_exactly_one_query(client, django_assert_num_queries, name):
    with django_assert_num_queries(1) as captured:
        assert post(client, load_fixture(name)).status_code == 200
    # The ledger INSERT, a prepared statement (voiceops.sqlbatch): EXECUTEd, or PREPAREd with it.
    assert captured.captured_queries[0]["sql"].startswith(("EXECUTE voiceops_ledger_insert_", "PREPARE"))
    assert "voiceops_ledger_insert_" in captured.captured_queries[0]["sql"]


def test_a_counted_high_volume_webhook_costs_no_query(client, django_assert_num_queries, settings):
    settings.VAPI_WEBHOOK_HIGH_VOLUME_MODE = "count"
    with django_assert_num_queries(0):
        assert post(client, load_fixture("speech-update.json")).status_code == 200


def test_a_duplicate_informational_webhook_costs_the_same_one_query(client, django_assert_num_queries):
    post(client, load_fixture("status-update-ended.json"))
    with django_assert_num_queries(1):
        assert post(client, load_fixture("status-update-ended.json")).status_code == 200


def test_answers_are_counted_by_type_and_outcome(client):
    from prometheus_client import REGISTRY

    def count(message_type: str, outcome: str) -> float:
        labels = {"type": message_type, "outcome": outcome}
        return REGISTRY.get_sample_value("voiceops_webhook_events_total", labels) or 0.0

    before = (
        count("status-update", "stored"),
        count("status-update", "duplicate"),
        count("unparsed", "unauthorized"),
    )
    post(client, load_fixture("status-update-ringing.json"))
    post(client, load_fixture("status-update-ringing.json"))
    post(client, load_fixture("status-update-ringing.json"), headers={})
    after = (
        count("status-update", "stored"),
        count("status-update", "duplicate"),
        count("unparsed", "unauthorized"),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1]
