"""The call page reads like the conversation: timeline, tools, recording, costs, analysis, events."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.enums import CallStatus, EventState
from tests.conftest import load_fixture
from tests.factories import CallFactory, ToolInvocationFactory, TranscriptTurnFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def call():
    report = load_fixture("end-of-call-report.json")["message"]
    started = timezone.now() - dt.timedelta(minutes=5)
    call = CallFactory(
        status=CallStatus.ENDED,
        outcome="completed",
        started_at=started,
        ended_at=started + dt.timedelta(seconds=95),
        duration_seconds=95,
        cost=Decimal("0.242"),
        cost_breakdown=report["costBreakdown"],
        recording_url="https://storage.example.com/recordings/call-1.wav",
        summary=report["analysis"]["summary"],
        structured_data=report["analysis"]["structuredData"],
        success_evaluation="true",
        has_final_report=True,
    )
    TranscriptTurnFactory(
        call=call, position=0, role="assistant", text="Hi Dana, this is Riley.", seconds_from_start=0.9
    )
    TranscriptTurnFactory(
        call=call, position=1, role="user", text="Where is my order NW-48213?", seconds_from_start=8.1
    )
    TranscriptTurnFactory(
        call=call, position=2, role="assistant", text="It shipped on March 12.", seconds_from_start=40.0
    )
    ToolInvocationFactory(
        call=call,
        vapi_call_id=call.vapi_id,
        name="lookup_order_status",
        arguments={"order_number": "NW-48213"},
        state="succeeded",
        result="Order NW-48213 shipped on March 12.",
        latency_ms=182.5,
    )
    return call


def test_call_page_shows_the_conversation(call, manager_client):
    inv = call.tool_invocations.get()
    type(inv).objects.filter(pk=inv.pk).update(created_at=call.started_at + dt.timedelta(seconds=20))
    response = manager_client.get(reverse("admin:calls_call_change", args=[call.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    # Timeline: roles, offsets and the tool invocation between the caller's question and the answer.
    assert "Where is my order NW-48213?" in html
    positions = [
        html.index(s)
        for s in (
            "Hi Dana, this is Riley.",
            "Where is my order",
            "lookup_order_status",
            "It shipped on March 12.",
        )
    ]
    assert positions == sorted(positions)
    assert "00:08.1" in html and "00:00.9" in html
    assert 'data-role="user"' in html and 'data-role="assistant"' in html
    assert "(order_number: NW-48213)" in html  # arguments read as text, not a JSON block
    assert "183 ms" in html
    # Recording, analysis, costs.
    assert (
        '<audio class="vo-audio" controls preload="none" src="https://storage.example.com/recordings/call-1.wav"'
        in html
    )
    assert "Riley confirmed the order shipped" in html
    # Structured data is a table of labelled values; the evaluation is labelled, not a bare "true".
    assert '<th scope="row">Issue resolved</th><td>Yes</td>' in html
    assert ">Successful</span>" in html
    assert "Language model" in html and "$0.0178" in html
    assert "(total $0.24)" in html


def test_call_page_lists_events_with_replay_for_managers_only(call, manager_client, viewer_client):
    event = WebhookEventFactory(
        vapi_call_id=call.vapi_id, message_type="end-of-call-report", state=EventState.FAILED, error="boom"
    )
    WebhookEventFactory(vapi_call_id="some-other-call", message_type="status-update")
    url = reverse("admin:calls_call_change", args=[call.pk])
    html = manager_client.get(url).content.decode()
    assert reverse("admin:calls_webhookevent_replay", args=[event.pk]) in html
    assert "Webhook events (1)" in html
    viewer_html = viewer_client.get(url).content.decode()
    assert "Webhook events (1)" in viewer_html
    assert reverse("admin:calls_webhookevent_replay", args=[event.pk]) not in viewer_html


def test_replay_requeues_the_event_and_returns_to_the_call(call, manager_client, viewer_client):
    event = WebhookEventFactory(vapi_call_id=call.vapi_id, state=EventState.FAILED, error="boom")
    url = reverse("admin:calls_webhookevent_replay", args=[event.pk])
    back = reverse("admin:calls_call_change", args=[call.pk])
    assert viewer_client.post(url, {"next": back}).status_code == 403
    event.refresh_from_db()
    assert event.state == EventState.FAILED
    assert manager_client.get(url).status_code == 405
    response = manager_client.post(url, {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    event.refresh_from_db()
    assert event.state != EventState.FAILED
    # An off-site "next" is ignored.
    response = manager_client.post(url, {"next": "https://evil.example.com/"})
    assert response["Location"] == reverse("admin:calls_webhookevent_change", args=[event.pk])


def test_assistant_version_is_shown(call, manager_client):
    call.assistant_version = 7
    call.save(update_fields=["assistant_version"])
    html = manager_client.get(reverse("admin:calls_call_change", args=[call.pk])).content.decode()
    assert "v7" in html


def test_call_without_data_renders(manager_client):
    bare = CallFactory(customer=None, assistant=None, customer_number="")
    response = manager_client.get(reverse("admin:calls_call_change", args=[bare.pk]))
    assert response.status_code == 200
    assert "No transcript yet." in response.content.decode()


def test_secrets_are_never_rendered(manager_client, superuser_client, settings):
    call = CallFactory(
        vapi_call={"assistant": {"server": {"url": "https://x.example.com", "secret": "s3cr3t-value-1"}}}
    )
    body = {
        "message": {
            "type": "status-update",
            "call": {"id": call.vapi_id},
            "assistant": {"server": {"secret": settings.VAPI_WEBHOOK_SECRET[0]}},
            "credentials": [{"apiKey": "vendor-key-abcdef"}],
        }
    }
    event = WebhookEventFactory(
        vapi_call_id=call.vapi_id,
        body=json.dumps(body),
        headers={"x-vapi-secret": "whsec-current-7a1d", "content-type": "application/json"},
    )
    inv = ToolInvocationFactory(
        call=call, arguments={"token": "tok-zzz-123456"}, result=f"key {settings.VAPI_API_KEY}"
    )
    pages = [
        reverse("admin:calls_call_change", args=[call.pk]),
        reverse("admin:calls_webhookevent_change", args=[event.pk]),
        reverse("admin:calls_webhookevent_changelist"),
        reverse("admin:tools_toolinvocation_changelist"),
        reverse("admin:tools_toolinvocation_change", args=[inv.pk]),
    ]
    secrets = [
        "s3cr3t-value-1",
        "whsec-current-7a1d",
        "vendor-key-abcdef",
        "tok-zzz-123456",
        settings.VAPI_API_KEY,
    ]
    for client in (manager_client, superuser_client):
        for page in pages:
            html = client.get(page).content.decode()
            leaked = [s for s in secrets if s in html]
            assert leaked == [], f"{page} leaks {leaked}"
    html = superuser_client.get(reverse("admin:calls_webhookevent_change", args=[event.pk])).content.decode()
    assert re.search(r"content-type", html)  # non-secret headers still shown


def test_links_between_call_and_ledger_filter_correctly(call, manager_client):
    event = WebhookEventFactory(vapi_call_id=call.vapi_id, message_type="status-update")
    other = WebhookEventFactory(vapi_call_id="another-call-id", message_type="status-update")
    html = manager_client.get(
        reverse("admin:calls_webhookevent_changelist") + f"?vapi_call_id={call.vapi_id}"
    )
    assert html.status_code == 200
    body = html.content.decode()
    assert f"/admin/calls/webhookevent/{event.pk}/change/" in body
    assert f"/admin/calls/webhookevent/{other.pk}/change/" not in body
    calls = manager_client.get(reverse("admin:calls_call_changelist") + f"?vapi_id={call.vapi_id}")
    assert calls.status_code == 200 and call.vapi_id in calls.content.decode()
    by_type = manager_client.get(
        reverse("admin:calls_webhookevent_changelist") + "?message_type=status-update"
    )
    assert (
        by_type.status_code == 200
        and f"/admin/calls/webhookevent/{event.pk}/change/" in by_type.content.decode()
    )


def test_recording_origin_is_allowed_by_the_page_csp(call, manager_client):
    response = manager_client.get(reverse("admin:calls_call_change", args=[call.pk]))
    assert response._csp_update == {"media-src": ["'self'", "https://storage.example.com"]}
    bare = CallFactory(recording_url="")
    assert not hasattr(manager_client.get(reverse("admin:calls_call_change", args=[bare.pk])), "_csp_update")


def test_replay_action_on_the_events_changelist(manager_client, viewer_client):
    event = WebhookEventFactory(state=EventState.FAILED, error="boom")
    url = reverse("admin:calls_webhookevent_changelist")
    assert "replay_selected" not in viewer_client.get(url).content.decode()
    viewer_client.post(url, {"action": "replay_selected", "_selected_action": [event.pk]})
    event.refresh_from_db()
    assert event.state == EventState.FAILED
    assert "replay_selected" in manager_client.get(url).content.decode()
    response = manager_client.post(
        url, {"action": "replay_selected", "_selected_action": [event.pk]}, follow=True
    )
    assert "Replayed 1 event(s)." in response.content.decode()
    event.refresh_from_db()
    assert event.state != EventState.FAILED and event.error == ""
