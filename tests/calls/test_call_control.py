"""Live call control (end, say, transfer) through the call's monitor.controlUrl: API and admin.

Vapi is faked at its HTTP boundary with ``responses``; the control URL lives on the
configured Vapi host (``http://vapi.test``) like the simulator's does.
"""

from __future__ import annotations

import json

import pytest
import responses
from django.urls import reverse

from calls.enums import CallStatus
from calls.models import CallControl
from tests.admin.conftest import make_user
from tests.api.conftest import assert_error, client_with  # noqa: F401 - fixture
from tests.factories import CallFactory
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db
CONTROL = "http://vapi.test/0195957c-18a4-7c03-8e5f-6b2d9a4e0c17/control"
LISTEN = "ws://vapi.test/0195957c-18a4-7c03-8e5f-6b2d9a4e0c17/listen"


def live_call(**kwargs):
    return CallFactory(
        status=CallStatus.IN_PROGRESS,
        vapi_call={"monitor": {"controlUrl": CONTROL, "listenUrl": LISTEN}},
        **kwargs,
    )


@pytest.mark.parametrize(
    ("request_body", "sent"),
    [
        ({"action": "end-call"}, {"type": "end-call"}),
        (
            {"action": "say", "content": " Please hold. "},
            {"type": "say", "content": "Please hold.", "endCallAfterSpoken": False},
        ),
        (
            {"action": "transfer", "destination": "+13125550142", "content": "Connecting you."},
            {
                "type": "transfer",
                "destination": {"type": "number", "number": "+13125550142"},
                "content": "Connecting you.",
            },
        ),
        (
            {"action": "transfer", "destination": "sip:desk@pbx.example.com"},
            {"type": "transfer", "destination": {"type": "sip", "sipUri": "sip:desk@pbx.example.com"}},
        ),
    ],
)
def test_api_sends_the_action_to_the_control_url_and_records_who(client_with, request_body, sent):  # noqa: F811
    call = live_call()
    client = client_with(Scope.CALLS_WRITE, Scope.READ)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, CONTROL, json={})
        response = client.post(f"/api/v1/calls/{call.pk}/control/", request_body, format="json")
        assert json.loads(rsps.calls[0].request.body) == sent
        assert "Authorization" not in rsps.calls[0].request.headers  # our key never goes to the call host
    assert response.status_code == 200, response.json()
    control = CallControl.objects.get()
    assert (control.state, control.action) == ("sent", request_body["action"])
    assert control.by.startswith("API key ")
    body = client.get(f"/api/v1/calls/{call.pk}/").json()
    assert body["listen_url"] == LISTEN
    assert [c["action"] for c in body["controls"]] == [request_body["action"]]


def test_api_errors_are_specific_and_record_nothing(client_with):  # noqa: F811
    client = client_with(Scope.CALLS_WRITE)
    call = live_call()
    url = f"/api/v1/calls/{call.pk}/control/"
    assert "action" in assert_error(client.post(url, {"action": "mute"}, format="json"), 400)["fields"]
    assert (
        "content"
        in assert_error(client.post(url, {"action": "say", "content": "  "}, format="json"), 422)["fields"]
    )
    error = assert_error(client.post(url, {"action": "transfer", "destination": "555"}, format="json"), 422)
    assert "destination" in error["fields"]
    ended = CallFactory(status=CallStatus.ENDED, vapi_call={"monitor": {"controlUrl": CONTROL}})
    assert_error(
        client.post(f"/api/v1/calls/{ended.pk}/control/", {"action": "end-call"}, format="json"), 409
    )
    elsewhere = live_call(vapi_id="elsewhere-1")
    elsewhere.vapi_call = {"monitor": {"controlUrl": "http://169.254.169.254/latest/control"}}
    elsewhere.save()
    error = assert_error(
        client.post(f"/api/v1/calls/{elsewhere.pk}/control/", {"action": "end-call"}, format="json"), 409
    )
    assert "not on a Vapi host" in error["message"]
    assert not CallControl.objects.exists()


def test_a_vapi_refusal_is_recorded_as_failed_and_answered_502(client_with):  # noqa: F811
    call = live_call()
    client = client_with(Scope.CALLS_WRITE)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, CONTROL, json={"message": "Call is not active."}, status=400)
        response = client.post(f"/api/v1/calls/{call.pk}/control/", {"action": "end-call"}, format="json")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "vapi_unavailable"
    control = CallControl.objects.get()
    assert control.state == "failed" and "not active" in control.error


def test_missing_control_url_is_fetched_from_vapi_once(client_with):  # noqa: F811
    call = CallFactory(status=CallStatus.IN_PROGRESS, vapi_call={})
    client = client_with(Scope.CALLS_WRITE)
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.GET,
            f"http://vapi.test/call/{call.vapi_id}",
            json={"id": call.vapi_id, "monitor": {"controlUrl": CONTROL}},
        )
        rsps.add(responses.POST, CONTROL, json={})
        assert (
            client.post(
                f"/api/v1/calls/{call.pk}/control/", {"action": "end-call"}, format="json"
            ).status_code
            == 200
        )
    call.refresh_from_db()
    assert call.vapi_call["monitor"]["controlUrl"] == CONTROL


def test_admin_call_page_acts_for_managers_only(client):
    call = live_call()
    page_url = reverse("admin:calls_call_change", args=[call.pk])
    control_url = reverse("admin:calls_call_control", args=[call.pk])
    viewer = make_user("viewer", group="Ops viewer")
    client.force_login(viewer)
    page = client.get(page_url).content.decode()
    assert "Live call control" in page and "control-end" not in page and LISTEN in page
    assert client.post(control_url, {"action": "end-call"}).status_code == 403

    manager = make_user("manager", group="Ops manager")
    client.force_login(manager)
    assert 'id="control-end"' in client.get(page_url).content.decode()
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, CONTROL, json={})
        response = client.post(control_url, {"action": "say", "content": "One moment please."}, follow=True)
    page = response.content.decode()
    assert "Say a sentence: sent to the live call." in page
    assert "manager" in page and "One moment please." in page
    control = CallControl.objects.get()
    assert (control.user, control.by, control.action) == (manager, "manager", "say")
