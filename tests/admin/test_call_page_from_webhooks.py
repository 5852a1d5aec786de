"""The call page for a call built by the real webhook path from Vapi's fixtures, end to end."""

from __future__ import annotations

import pytest
from django.urls import reverse

from calls.models import Call, WebhookEvent
from tests.admin.conftest import client_for
from tests.calls.conftest import post
from tests.conftest import load_fixture
from tests.factories import AssistantFactory, PhoneNumberFactory
from tools.models import ToolInvocation

pytestmark = pytest.mark.django_db

CALL_ID = "0195953a-5e2c-7b41-9d8e-3f6a2c1b7e90"
SEQUENCE = [
    "status-update-ringing.json",
    "status-update-in-progress.json",
    "transcript-final.json",
    "tool-calls.json",
    "status-update-ended.json",
    "end-of-call-report.json",
]


def test_call_page_of_a_webhook_built_call(client, manager, django_capture_on_commit_callbacks):
    assistant = AssistantFactory(vapi_id="a3f1c9e2-4b6d-4e8a-9c1f-7d2e5b8a0c34", pushed_version=7)
    PhoneNumberFactory(
        vapi_id="9e4b2d71-3c5a-4f88-b1d6-0a7c3e9f5b12", number="+12125550187", assistant=assistant
    )
    for name in SEQUENCE:
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, load_fixture(name)).status_code == 200, name
    call = Call.objects.get(vapi_id=CALL_ID)
    invocations = list(ToolInvocation.objects.filter(vapi_call_id=CALL_ID))
    assert invocations, "the tool-calls fixture must leave invocations in the ledger"

    html = client_for(manager).get(reverse("admin:calls_call_change", args=[call.pk])).content.decode()
    report = load_fixture("end-of-call-report.json")["message"]
    spoken = [
        m["message"] for m in report["messages"] if m.get("role") in ("user", "bot") and m.get("message")
    ]
    for text in spoken[:3]:
        assert text.replace("'", "&#x27;") in html
    # Each tool call shows once, folded into the turn that asked for it, with its answer.
    for inv in invocations:
        assert html.count(f'data-tool-call-id="{inv.tool_call_id}"') == 1
        assert f"⚙ {inv.name}" in html
    assert report["recordingUrl"] in html
    assert f"Webhook events ({WebhookEvent.objects.filter(vapi_call_id=CALL_ID).count()})" in html
    assert "v7" in html
    assert "/history/7/" in html
