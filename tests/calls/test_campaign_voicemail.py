"""Campaign calls carry Vapi's voicemail detection plan; assistants can set their own or turn it off."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import responses
import time_machine
from vapi.types import (
    GoogleVoicemailDetectionPlan,
    OpenAiVoicemailDetectionPlan,
    TwilioVoicemailDetectionPlan,
    VapiVoicemailDetectionPlan,
)

from assistants.payload import assistant_payload
from assistants.validation import assistant_config_errors
from calls.campaigns.services.dispatch import campaign_dispatch_due
from tests.calls.campaign_support import FakeVapi, add_recipient, make_campaign
from tests.factories import AssistantFactory
from voiceops.vapi.voicemail import DEFAULT_PLAN, PLAN_FIELDS

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)


@pytest.fixture
def vapi():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeVapi(rsps)


def _overrides(vapi, **assistant_fields):
    campaign = make_campaign()
    for key, value in assistant_fields.items():
        setattr(campaign.assistant, key, value)
    campaign.assistant.save()
    add_recipient(campaign)
    with time_machine.travel(NOON, tick=False):
        campaign_dispatch_due(campaign=campaign)
    return vapi.payloads[-1]["assistantOverrides"]


def test_campaign_calls_turn_detection_on_by_default(vapi):
    overrides = _overrides(vapi, voicemail_message="Sorry we missed you.")
    assert overrides["voicemailDetection"] == DEFAULT_PLAN
    assert overrides["voicemailMessage"] == "Sorry we missed you."
    VapiVoicemailDetectionPlan.model_validate(overrides["voicemailDetection"])  # the SDK's shape


def test_the_assistants_own_plan_or_off_wins(vapi):
    plan = {"provider": "twilio", "voicemailDetectionTypes": ["machine_end_beep"], "enabled": True}
    assert _overrides(vapi, voicemail_detection=plan)["voicemailDetection"] == plan
    assert _overrides(vapi, voicemail_detection="off")["voicemailDetection"] == "off"


def test_assistant_payload_carries_a_configured_plan_only():
    plain = AssistantFactory()
    assert "voicemailDetection" not in assistant_payload(assistant=plain, credential_id=None)
    plan = {"provider": "google", "type": "transcript", "beepMaxAwaitSeconds": 20}
    configured = AssistantFactory(voicemail_detection=plan, voicemail_message="Call us back.")
    payload = assistant_payload(assistant=configured, credential_id=None)
    assert payload["voicemailDetection"] == plan and payload["voicemailMessage"] == "Call us back."
    GoogleVoicemailDetectionPlan.model_validate(payload["voicemailDetection"])


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"provider": "nuance"}, "Unknown voicemail detection provider"),
        ({"provider": "vapi", "beepMaxAwaitSeconds": 90}, "between 0 and 60"),
        ({"provider": "vapi", "type": "video"}, "'type' must be one of"),
        ({"provider": "vapi", "machineDetectionTimeout": 3}, "is not an option of the vapi"),
        ({"provider": "twilio", "voicemailDetectionTypes": ["robot"]}, "voicemailDetectionTypes"),
        (["vapi"], 'Use "off" or an object'),
    ],
)
def test_invalid_plans_get_a_field_error(plan, message):
    errors = assistant_config_errors(data={"voicemail_detection": plan}, partial=True)
    assert any(message in e for e in errors["voicemail_detection"]), errors


def test_plan_fields_follow_the_sdk_models():
    for provider, model in (
        ("vapi", VapiVoicemailDetectionPlan),
        ("google", GoogleVoicemailDetectionPlan),
        ("openai", OpenAiVoicemailDetectionPlan),
        ("twilio", TwilioVoicemailDetectionPlan),
    ):
        sdk = {field.alias or name for name, field in model.model_fields.items()}
        assert set(PLAN_FIELDS[provider]) == sdk, provider


def test_the_plan_is_part_of_the_editable_config():
    assistant = AssistantFactory(vapi_id=str(uuid.uuid4()), voicemail_detection={"provider": "vapi"})
    assert assistant.config_data()["voicemail_detection"] == {"provider": "vapi"}
