"""The official SDK (vapi-server-sdk 3.0.0) against the simulator: its own models parse every answer.

The SDK builds responses without validation (``construct``), so each raw answer is also
validated strictly with the SDK's pydantic model (``model_validate``).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from pydantic import TypeAdapter
from vapi import Vapi
from vapi.core.api_error import ApiError
from vapi.phone_numbers.types.list_phone_numbers_response_item import ListPhoneNumbersResponseItem

from tests.sdk import sdk_model
from voiceops.simulator.runner import Simulator, running_simulator


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with running_simulator(play_calls=False, seed=3, api_key="sdk-test-key") as simulator:
        yield simulator


def raw_get(sim: Simulator, path: str) -> object:
    request = urllib.request.Request(
        f"{sim.base_url}{path}", headers={"Authorization": "Bearer sdk-test-key"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_sdk_creates_and_fetches_an_assistant(sim: Simulator) -> None:
    client = Vapi(token="sdk-test-key", base_url=sim.base_url)
    created = client.assistants.create(
        name="Front desk",
        first_message="Hi, this is the front desk.",
        model={
            "provider": "openai",
            "model": "gpt-4o",
            "messages": [{"role": "system", "content": "Be brief."}],
        },
        voice={"provider": "11labs", "voiceId": "burt"},
        server={"url": "https://voiceops.example.com/webhooks/vapi/", "timeoutSeconds": 20},
    )
    assistant_model = sdk_model("Assistant")
    assert isinstance(created, assistant_model)
    assert created.name == "Front desk"
    fetched = client.assistants.get(created.id)
    assert fetched.id == created.id
    assert fetched.first_message == "Hi, this is the front desk."
    assert fetched.server.url == "https://voiceops.example.com/webhooks/vapi/"
    assistant_model.model_validate(raw_get(sim, f"/assistant/{created.id}"))
    listed = client.assistants.list(limit=10)
    assert [a.id for a in listed] == [created.id]
    updated = client.assistants.update(created.id, first_message="Hello again.")
    assert updated.first_message == "Hello again." and updated.name == "Front desk"


def test_sdk_places_single_and_batch_calls_and_lists_them(sim: Simulator) -> None:
    call_model, customer = sdk_model("Call"), sdk_model("CreateCustomerDto")
    client = Vapi(token="sdk-test-key", base_url=sim.base_url)
    assistant = client.assistants.create(name="Caller", model={"provider": "openai", "model": "gpt-4o"})
    numbers = client.phone_numbers.list()
    assert len(numbers) == 1 and numbers[0].number == "+12125550100"
    TypeAdapter(list[ListPhoneNumbersResponseItem]).validate_python(raw_get(sim, "/phone-number"))

    single = client.calls.create(
        assistant_id=assistant.id,
        phone_number_id=numbers[0].id,
        customer=customer(number="+15555550123", name="Dana"),
        assistant_overrides={"variableValues": {"customerName": "Dana"}},
        name="Follow-up",
    )
    assert isinstance(single, call_model)
    assert single.status == "queued" and single.type == "outboundPhoneCall"
    assert single.customer.number == "+15555550123"
    call_model.model_validate(raw_get(sim, f"/call/{single.id}"))

    batch = client.calls.create(
        assistant_id=assistant.id,
        phone_number_id=numbers[0].id,
        customers=[customer(number="+15555550124"), customer(number="+15555550125")],
        schedule_plan={"earliestAt": "2030-01-01T10:00:00.000Z"},
    )
    assert isinstance(batch, sdk_model("CallBatchResponse"))
    assert len(batch.results) == 2 and batch.errors == []
    assert {c.status for c in batch.results} == {"scheduled"}

    calls = client.calls.list(limit=10)
    assert {c.id for c in calls} == {single.id, *(c.id for c in batch.results)}
    TypeAdapter(list[call_model]).validate_python(raw_get(sim, "/call?limit=10"))
    only = client.calls.list(id=single.id)
    assert [c.id for c in only] == [single.id]
    fetched = client.calls.get(single.id)
    assert fetched.id == single.id and fetched.name == "Follow-up"


def test_sdk_sees_vapi_errors(sim: Simulator) -> None:
    client = Vapi(token="sdk-test-key", base_url=sim.base_url)
    with pytest.raises(ApiError) as missing:
        client.assistants.get("7d4c0b5e-1111-4a2b-9c3d-000000000000")
    assert missing.value.status_code == 404
    with pytest.raises(ApiError) as bad:
        client.calls.create(assistant_id="7d4c0b5e-1111-4a2b-9c3d-000000000000", customer={"number": "555"})
    assert bad.value.status_code == 400
    assert bad.value.body["error"] == "Bad Request"
    assert "customer.number must be a valid phone number in the E.164 format." in bad.value.body["message"]


def test_sdk_with_a_wrong_key_gets_401() -> None:
    with running_simulator(play_calls=False, api_key="the-right-key") as sim:
        with pytest.raises(ApiError) as unauthorised:
            Vapi(token="a-wrong-key", base_url=sim.base_url).assistants.list()
        assert unauthorised.value.status_code == 401
        assert unauthorised.value.body["statusCode"] == 401
        assert [a.id for a in Vapi(token="the-right-key", base_url=sim.base_url).assistants.list()] == []
