"""The one validator behind Assistant.clean, the API and the push."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from assistants.validation import CONFIG_FIELDS, assistant_config_errors, assistant_validate
from tests.factories import AssistantFactory
from voiceops.errors import DomainError


def valid() -> dict:
    return {
        "name": "Front desk",
        "first_message": "Hi",
        "first_message_mode": "assistant-speaks-first",
        "system_prompt": "",
        "model_provider": "anthropic",
        "model_name": "claude-3-5-sonnet",
        "temperature": 0.7,
        "max_tokens": 300,
        "voice_provider": "cartesia",
        "voice_id": "v1",
        "transcriber_provider": "deepgram",
        "transcriber_model": "nova-2",
        "transcriber_language": "en",
        "end_call_phrases": ["goodbye"],
        "end_call_message": "",
        "voicemail_message": "",
        "voicemail_detection": {},
        "max_duration_seconds": 600,
        "summary_prompt": "",
        "structured_data_schema": {},
        "success_rubric": "",
        "recording_enabled": True,
        "recording_format": "wav;l16",
        "server_messages": ["status-update", 'transcript[transcriptType="final"]'],
        "metadata": {"team": "ops"},
    }


def test_valid_config_has_no_errors():
    assert assistant_config_errors(data=valid()) == {}
    assert set(valid()) == set(CONFIG_FIELDS)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("name", "", "required"),
        ("name", "x" * 41, "40 characters"),
        ("temperature", 2.01, "between 0 and 2"),
        ("temperature", -1, "between 0 and 2"),
        ("temperature", "hot", "must be a number"),
        ("temperature", float("nan"), "between 0 and 2"),
        ("max_tokens", 0, "between 1 and 10000"),
        ("max_duration_seconds", 5, "between 10 and 43200"),
        ("model_provider", "acme", "Unknown model provider 'acme'"),
        ("voice_provider", "elevenlabs", "Unknown voice provider"),
        ("transcriber_provider", "whisper-local", "Unknown transcriber provider"),
        ("first_message_mode", "shout", "Unknown first message mode"),
        ("success_rubric", "Stars", "Unknown success rubric"),
        ("recording_format", "ogg", "Unknown recording format"),
        ("model_name", " ", "model name is required"),
        ("voice_id", "", "voice id is required"),
        ("server_messages", ["status-update", "call.ended"], "'call.ended'"),
        ("server_messages", ["hang", "hang"], "only once"),
        ("server_messages", ["status-update", "phone-call-control"], "Vapi leaves forwarding and hang-up"),
        ("server_messages", ["voice-input"], "custom voice provider"),
        ("server_messages", "status-update", "list of message type names"),
        ("end_call_phrases", ["ok", "x"], "2 to 140"),
        ("end_call_phrases", "bye", "list of phrases"),
        ("structured_data_schema", {"type": "object", "properties": {"a": {"type": "strin"}}}, "JSON Schema"),
        ("structured_data_schema", {"type": "object", "required": "a"}, "JSON Schema at required"),
        ("structured_data_schema", {"properties": {}}, 'top-level "type"'),
        ("structured_data_schema", ["type"], "JSON object"),
        ("metadata", ["a"], "JSON object"),
        ("metadata", {"blob": "x" * 20000}, "Too large"),
    ],
)
def test_each_rule_gives_a_clear_field_error(field, value, fragment):
    data = valid()
    data[field] = value
    errors = assistant_config_errors(data=data)
    assert list(errors) == [field]
    assert fragment in " ".join(errors[field])


def test_partial_checks_only_given_fields():
    assert assistant_config_errors(data={"temperature": 1.0}, partial=True) == {}
    assert list(assistant_config_errors(data={"temperature": 3}, partial=True)) == ["temperature"]


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_temperature_bounds(value):
    data = valid()
    data["temperature"] = value
    assert ("temperature" in assistant_config_errors(data=data)) == (not 0 <= value <= 2)


@pytest.mark.django_db
def test_model_clean_and_service_validator_use_the_same_rules():
    assistant = AssistantFactory.build(temperature=2.5, voice_provider="nope")
    with pytest.raises(ValidationError) as exc:
        assistant.clean()
    assert set(exc.value.message_dict) == {"temperature", "voice_provider"}
    with pytest.raises(DomainError) as domain:
        assistant_validate(assistant=assistant)
    assert set(domain.value.fields) == {"temperature", "voice_provider"}
    assert domain.value.code == "invalid_config"
