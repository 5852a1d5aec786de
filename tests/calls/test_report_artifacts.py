"""The end-of-call report's artifact fields ops read are kept on the call and shown by the API.

Field names follow CONTRACT §4.5 and the SDK's ``Artifact``/``Call`` models (``vapi`` package).
"""

from __future__ import annotations

import pytest
from vapi.types.artifact import Artifact

from calls.models import Call
from tests.api.conftest import client_with  # noqa: F401
from tests.calls.test_webhook_fixtures import CALL_ID, line  # noqa: F401
from tests.conftest import load_fixture
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db

EXTRA_ARTIFACT = {
    "structuredOutputs": {
        "5f0c6f8e-0b8e-4d0a-9a57-7f1a3c2b9d10": {"name": "appointment_booked", "result": False},
        "7a1d2c3b-0000-4d0a-9a57-7f1a3c2b9d11": {"name": "reason", "result": "Slot taken — ünïcode"},
    },
    "scorecards": {"sc-1": {"name": "Booking quality", "score": 62, "metrics": []}},
    "variableValues": {"first_name": "Dana", "clinic": "Northwind Dental"},
    "transfers": [
        {"destination": {"type": "number", "number": "+13125550142"}, "mode": "warm", "status": "completed"}
    ],
    "videoRecordingUrl": "https://storage.example.invalid/video.mp4",
    "pcapUrl": "https://storage.example.invalid/call.pcap",
}


def report_with_everything() -> dict:
    payload = load_fixture("end-of-call-report.json")
    payload["message"]["artifact"].update(EXTRA_ARTIFACT)
    payload["message"]["call"]["endedMessage"] = "The customer hung up."
    Artifact.model_validate(payload["message"]["artifact"])  # the shape Vapi's SDK accepts
    return payload


def test_report_artifacts_are_stored(line, vapi_post):  # noqa: F811
    vapi_post(report_with_everything())
    call = Call.objects.get(vapi_id=CALL_ID)
    assert call.structured_outputs == EXTRA_ARTIFACT["structuredOutputs"]
    assert call.scorecards == EXTRA_ARTIFACT["scorecards"]
    assert call.variable_values == EXTRA_ARTIFACT["variableValues"]
    assert call.report_transfers == EXTRA_ARTIFACT["transfers"]
    assert call.performance_metrics["turnLatencyAverage"] == 1184.5
    assert call.log_url.endswith(".jsonl.gz")
    assert call.video_recording_url == "https://storage.example.invalid/video.mp4"
    assert call.pcap_url == "https://storage.example.invalid/call.pcap"
    assert call.ended_message == "The customer hung up."


def test_a_later_thinner_report_keeps_what_was_stored(line, vapi_post):  # noqa: F811
    vapi_post(report_with_everything())
    thin = load_fixture("end-of-call-report.json")
    thin["message"]["artifact"] = {"messages": [], "transfers": "not-a-list", "pcapUrl": "javascript:x"}
    thin["message"]["timestamp"] += 1000
    thin["message"]["cost"] = 0.5
    vapi_post(thin)
    call = Call.objects.get(vapi_id=CALL_ID)
    assert call.pcap_url == "https://storage.example.invalid/call.pcap"
    assert call.report_transfers == EXTRA_ARTIFACT["transfers"]


def test_the_api_call_resource_carries_them(line, vapi_post, client_with):  # noqa: F811
    vapi_post(report_with_everything())
    client = client_with(Scope.READ)
    pk = Call.objects.get(vapi_id=CALL_ID).pk
    body = client.get(f"/api/v1/calls/{pk}/").json()
    assert body["structured_outputs"] == EXTRA_ARTIFACT["structuredOutputs"]
    assert body["scorecards"]["sc-1"]["score"] == 62
    assert body["performance_metrics"]["modelLatencyAverage"] == 512.3
    assert body["report_transfers"][0]["status"] == "completed"
    assert body["variable_values"]["first_name"] == "Dana"
    assert body["ended_message"] == "The customer hung up."
    assert body["pcap_url"] == "https://storage.example.invalid/call.pcap"
    assert body["video_recording_url"] == "https://storage.example.invalid/video.mp4"
    assert body["log_url"].startswith("https://logs.example.invalid/")
