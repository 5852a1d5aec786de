"""Every message type Vapi waits on is answered in the shape the official SDK's response model
requires (package ``vapi``), in its success and its refusal form; never with ``{}``."""

from __future__ import annotations

from typing import Any

import pytest

from assistants.models import NumberMode
from tests.calls.test_webhook_fixtures import ASSISTANT_VAPI_ID, PHONE_VAPI_ID, TRANSFER_TO
from tests.conftest import load_fixture
from tests.factories import AssistantFactory, PhoneNumberFactory
from tests.sdk import sdk_model
from voiceops.vapi.messages import REQUEST_RESPONSE_TYPES

pytestmark = pytest.mark.django_db

MODELS: dict[str, str] = {
    "assistant-request": "ServerMessageResponseAssistantRequest",
    "tool-calls": "ServerMessageResponseToolCalls",
    "transfer-destination-request": "ServerMessageResponseTransferDestinationRequest",
    "knowledge-base-request": "ServerMessageResponseKnowledgeBaseRequest",
    "handoff-destination-request": "ServerMessageResponseHandoffDestinationRequest",
}


def message_of(kind: str) -> dict[str, Any]:
    fixture = {
        "assistant-request": "assistant-request.json",
        "tool-calls": "tool-calls.json",
        "transfer-destination-request": "transfer-destination-request.json",
    }.get(kind, "hang.json")
    body = load_fixture(fixture)
    body["message"]["type"] = kind
    return body


def validated(kind: str, answer: dict[str, Any]) -> Any:
    assert answer != {}, f"{kind} answered with {{}}"
    return sdk_model(MODELS[kind]).model_validate(answer)


def test_every_request_response_type_has_an_sdk_model_here() -> None:
    # The legacy function-call has no response model in the SDK (its answer is {"result": ...}).
    assert set(REQUEST_RESPONSE_TYPES) - {"function-call", "campaign.predial"} <= set(MODELS)


@pytest.mark.parametrize("routed", [True, False], ids=["assistant", "refusal"])
def test_assistant_request(vapi_post, routed: bool) -> None:
    assistant = AssistantFactory(vapi_id=ASSISTANT_VAPI_ID if routed else None)
    PhoneNumberFactory(
        vapi_id=PHONE_VAPI_ID, number="+12125550187", mode=NumberMode.ROUTED, assistant=assistant
    )
    model = validated("assistant-request", vapi_post(message_of("assistant-request")).json())
    assert (model.assistant_id == ASSISTANT_VAPI_ID) if routed else (model.error and not model.assistant_id)


@pytest.mark.parametrize("configured", [True, False], ids=["destination", "refusal"])
def test_transfer_destination_request(vapi_post, configured: bool) -> None:
    PhoneNumberFactory(
        vapi_id=PHONE_VAPI_ID, number="+12125550187", transfer_destination=TRANSFER_TO if configured else ""
    )
    model = validated(
        "transfer-destination-request", vapi_post(message_of("transfer-destination-request")).json()
    )
    if configured:
        assert model.destination is not None and model.destination.number == TRANSFER_TO
    else:
        assert model.error and model.destination is None


def test_tool_calls(vapi_post) -> None:
    model = validated("tool-calls", vapi_post(message_of("tool-calls")).json())
    assert model.results and all(r.tool_call_id and (r.result or r.error) for r in model.results)


def test_knowledge_base_request(vapi_post) -> None:
    model = validated("knowledge-base-request", vapi_post(message_of("knowledge-base-request")).json())
    assert model.documents == []


def test_handoff_destination_request_is_refused_with_a_destination_field(vapi_post) -> None:
    answer = vapi_post(message_of("handoff-destination-request")).json()
    model = validated("handoff-destination-request", answer)
    assert model.error and model.destination == {}
