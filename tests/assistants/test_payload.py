"""The CreateAssistantDto we send, compared field by field with Vapi's create shape."""

from __future__ import annotations

import pydantic
import pytest

from assistants.payload import (
    assistant_payload,
    canonical_json,
    payload_hash,
    server_block,
    update_body,
)
from tests.assistants.conftest import CREDENTIAL_ID
from tests.conftest import load_fixture
from tests.factories import AssistantFactory, ToolFactory
from tests.sdk import sdk_model

pytestmark = pytest.mark.django_db

# Where our payload knowingly differs from the fixture, and why:
# - server.url: DESIGN.md fixes our webhook at PUBLIC_BASE_URL + /webhooks/vapi/ (the fixture
#   uses another path); server.backoffPlan: we opt into Vapi's delivery retries (CONTRACT §6);
# - model.toolIds: the fixture references tools created separately; we inline ``model.tools``
#   from the tool registry (none here);
# - metadata: the fixture's own id key; ours carries voiceops_assistant_id.
KNOWN_DIFFERENCES = {"server", "metadata"}


def test_fully_configured_assistant_matches_vapis_create_shape(northwind):
    fixture = load_fixture("rest/assistant-create-request.json")
    payload = assistant_payload(assistant=northwind, credential_id=CREDENTIAL_ID)

    assert list(payload) == list(fixture)  # same top-level fields, in the same order
    for key in fixture:
        if key in KNOWN_DIFFERENCES or key == "model":
            continue
        assert payload[key] == fixture[key], key

    fixture_model = {k: v for k, v in fixture["model"].items() if k != "toolIds"}
    assert payload["model"] == fixture_model

    assert payload["server"] == {
        "url": "https://voiceops.example.com/webhooks/vapi/",
        "timeoutSeconds": fixture["server"]["timeoutSeconds"],
        "credentialId": fixture["server"]["credentialId"],
        "backoffPlan": {
            "type": "exponential",
            "maxRetries": 3,
            "baseDelaySeconds": 1.0,
            "excludedStatusCodes": [400, 401, 403, 404, 413],
        },
    }
    assert payload["metadata"] == {"environment": "staging", "voiceops_assistant_id": str(northwind.pk)}


def test_payload_validates_against_the_sdk_create_assistant_dto(northwind):
    payload = assistant_payload(assistant=northwind, credential_id=CREDENTIAL_ID)
    backoff = payload["server"].pop("backoffPlan")
    # The SDK mistypes BackoffPlan (type/excludedStatusCodes as objects); the OpenAPI text
    # says type is "fixed" | "exponential", maxRetries 0..10, baseDelaySeconds 0..10.
    assert backoff["type"] in ("fixed", "exponential")
    assert 0 <= backoff["maxRetries"] <= 10 and 0 <= backoff["baseDelaySeconds"] <= 10
    try:
        dto = sdk_model("CreateAssistantDto").model_validate(payload)
    except pydantic.ValidationError as exc:  # pragma: no cover - shows the mismatch
        pytest.fail(str(exc))
    assert dto.name == northwind.name
    # No field we send is unknown to the SDK (Vapi rejects unknown properties with a 400).
    assert not (dto.model_extra or {})


def test_minimal_assistant_omits_empty_optional_fields(db):
    assistant = AssistantFactory(
        first_message="", system_prompt="", voicemail_message="", end_call_phrases=[]
    )
    payload = assistant_payload(assistant=assistant, credential_id=None)
    for absent in ("firstMessage", "voicemailMessage", "endCallMessage", "endCallPhrases"):
        assert absent not in payload
    assert "messages" not in payload["model"]
    assert "credentialId" not in payload["server"]
    assert payload["analysisPlan"] == {"summaryPlan": {"enabled": True}}


def test_summary_prompt_becomes_a_system_message(db):
    assistant = AssistantFactory(summary_prompt="Summarise in two sentences.")
    plan = assistant_payload(assistant=assistant, credential_id=None)["analysisPlan"]["summaryPlan"]
    assert plan == {
        "enabled": True,
        "messages": [{"role": "system", "content": "Summarise in two sentences."}],
    }


def test_tools_come_from_the_registry(db, monkeypatch):
    import assistants.payload as payload_module

    tool = ToolFactory(name="book_appointment")
    assistant = AssistantFactory()
    assistant.tools.add(tool)
    definition = {
        "type": "function",
        "function": {"name": "book_appointment", "parameters": {"type": "object"}},
        "server": {"url": "https://voiceops.example.com/webhooks/vapi/", "timeoutSeconds": 5},
    }
    seen = []

    def fake(*, assistant):
        seen.append(assistant)
        return [definition]

    monkeypatch.setattr(payload_module, "_tool_definitions", lambda a: fake(assistant=a))
    payload = assistant_payload(assistant=assistant, credential_id=CREDENTIAL_ID)
    # Tool calls go to the tool's own server URL, so it carries our credential as well.
    assert payload["model"]["tools"] == [
        {**definition, "server": {**definition["server"], "credentialId": CREDENTIAL_ID}}
    ]
    assert seen == [assistant]


def test_backoff_settings_are_clamped_to_vapis_limits(settings):
    settings.VAPI_SERVER_BACKOFF_MAX_RETRIES = 50
    settings.VAPI_SERVER_BACKOFF_BASE_DELAY_SECONDS = 60
    settings.VAPI_SERVER_BACKOFF_TYPE = "linear"
    plan = server_block(credential_id="c")["backoffPlan"]
    assert (plan["type"], plan["maxRetries"], plan["baseDelaySeconds"]) == ("fixed", 10, 10.0)
    settings.VAPI_SERVER_BACKOFF_MAX_RETRIES = 0
    assert "backoffPlan" not in server_block(credential_id="c")


def test_hash_is_canonical():
    a = {"b": 1, "a": {"y": [1, 2], "x": "é"}}
    b = {"a": {"x": "é", "y": [1, 2]}, "b": 1}
    assert canonical_json(a) == canonical_json(b)
    assert payload_hash(a) == payload_hash(b)
    assert payload_hash(a) != payload_hash({**a, "b": 2})
    assert len(payload_hash(a)) == 64


def test_update_body_nulls_fields_that_were_cleared():
    body = update_body(payload={"name": "x"}, previous={"name": "y", "voicemailMessage": "old"})
    assert body == {"name": "x", "voicemailMessage": None}
    assert update_body(payload={"name": "x"}, previous=None) == {"name": "x"}


def test_registry_tools_are_inlined_with_our_server_and_credential(northwind):
    from tools.registry import REGISTRY, _load_builtins

    _load_builtins()
    assert "book_appointment" in REGISTRY
    northwind.tools.add(
        ToolFactory(name="book_appointment"), ToolFactory(name="lookup_disabled", enabled=False)
    )

    payload = assistant_payload(assistant=northwind, credential_id=CREDENTIAL_ID)

    tools = payload["model"]["tools"]
    assert [t["function"]["name"] for t in tools] == ["book_appointment"]
    assert tools[0]["type"] == "function"
    assert tools[0]["server"]["url"] == "https://voiceops.example.com/webhooks/vapi/"
    assert tools[0]["server"]["credentialId"] == CREDENTIAL_ID
    assert tools[0]["function"]["parameters"]["type"] == "object"
    payload["server"].pop("backoffPlan")
    sdk_model("CreateAssistantDto").model_validate(payload)


def test_transfer_destinations_are_pushed_in_a_transfer_call_tool(db):
    from assistants.models import TransferDestination
    from assistants.payload import assistant_payload
    from tests.factories import AssistantFactory

    assistant = AssistantFactory()
    TransferDestination.objects.create(
        assistant=assistant, position=1, number="+13125550142", message="Hold on."
    )
    TransferDestination.objects.create(
        assistant=assistant,
        position=2,
        kind="sip",
        sip_uri="sip:desk@pbx.example.com",
        description="Front desk",
    )
    tools = assistant_payload(assistant=assistant, credential_id=None)["model"]["tools"]
    assert tools[-1] == {
        "type": "transferCall",
        "destinations": [
            {"type": "number", "number": "+13125550142", "message": "Hold on."},
            {"type": "sip", "sipUri": "sip:desk@pbx.example.com", "description": "Front desk"},
        ],
    }
    # A condition only voiceops can apply: no destinations pushed, Vapi asks us per transfer.
    TransferDestination.objects.filter(position=2).update(department="billing")
    tools = assistant_payload(assistant=assistant, credential_id=None)["model"]["tools"]
    assert tools[-1]["destinations"] == [] and "billing" in tools[-1]["function"]["description"]
