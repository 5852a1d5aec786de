"""A live simulator call told to say a sentence and then ended through the API (the simulator's
control URL); the browser version is tests/admin/browser/test_live_control.py."""

from __future__ import annotations

import time
from typing import Any

import pytest

from assistants.models import Assistant, NumberMode, PhoneNumber
from assistants.services import assistant_push
from assistants.services.phone_numbers import phone_number_set_mode
from calls.enums import CallStatus
from calls.models import Call, CallControl
from tests.api.conftest import client_with  # noqa: F401 - fixture
from tests.e2e.test_inbound_routing_e2e import NUMBER, simulator, wait_for  # noqa: F401 - fixtures
from voiceops.api.scopes import Scope
from voiceops.simulator.runner import Simulator
from voiceops.simulator.store import phone_number_id_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def live_inbound(sim: Simulator, caller: str) -> Call:
    assistant = Assistant.objects.filter(name="E2E live").first()
    if assistant is None:
        assistant = Assistant.objects.create(name="E2E live", first_message="Hello, Northwind.")
        assistant_push(assistant=assistant)
        assistant.refresh_from_db()
        phone = PhoneNumber.objects.create(
            number=NUMBER, vapi_id=phone_number_id_for(NUMBER), provider="vapi"
        )
        phone_number_set_mode(phone_number=phone, mode=NumberMode.FIXED, assistant=assistant)
    sim.config.time_factor = 1.0  # a real-time call: it is still live when we act on it
    placed = sim.simulate_inbound(from_number=caller, to_number=NUMBER, scenario="books-appointment")
    wait_for(
        lambda: Call.objects.filter(vapi_id=placed["id"], status=CallStatus.IN_PROGRESS).exists(),
        seconds=30,
        what="the call to be in progress",
    )
    return Call.objects.get(vapi_id=placed["id"])


def test_api_says_then_ends_a_live_call(simulator: Simulator, worker: None, client_with: Any) -> None:  # noqa: F811
    call = live_inbound(simulator, "+14155550131")
    client = client_with(Scope.CALLS_WRITE, Scope.READ)
    said = client.post(
        f"/api/v1/calls/{call.pk}/control/", {"action": "say", "content": "A quick note."}, format="json"
    )
    assert said.status_code == 200, said.json()
    time.sleep(0.5)
    ended = client.post(f"/api/v1/calls/{call.pk}/control/", {"action": "end-call"}, format="json")
    assert ended.status_code == 200, ended.json()
    assert simulator.wait_for_calls(timeout=30, call_ids=[call.vapi_id])
    wait_for(
        lambda: Call.objects.filter(pk=call.pk, status=CallStatus.ENDED).exists(), seconds=30, what="ended"
    )
    call.refresh_from_db()
    assert call.ended_reason == "assistant-ended-call"
    assert [c.action for c in CallControl.objects.filter(call=call)] == ["say", "end-call"]
    body = client.get(f"/api/v1/calls/{call.pk}/").json()
    assert body["listen_url"].startswith("ws://127.0.0.1:") and body["listen_url"].endswith("/listen")
