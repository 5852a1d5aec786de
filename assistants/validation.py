"""Validation of an assistant config: one set of rules for model.clean, the API and the push.

``assistant_config_errors`` takes plain data keyed by model field name and returns
``{field: [message, ...]}``, so a DRF serializer can feed it ``attrs`` and the admin gets
field errors through ``Assistant.clean``. The push service refuses an invalid config before
any request to Vapi (``assistant_validate``), so nothing half-valid ever reaches a live agent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import Draft202012Validator, validator_for

from voiceops.errors import DomainError
from voiceops.vapi import enums as vapi_enums
from voiceops.vapi.voicemail import voicemail_plan_errors

CONFIG_FIELDS: tuple[str, ...] = (
    "name",
    "first_message",
    "first_message_mode",
    "system_prompt",
    "model_provider",
    "model_name",
    "temperature",
    "max_tokens",
    "voice_provider",
    "voice_id",
    "transcriber_provider",
    "transcriber_model",
    "transcriber_language",
    "end_call_phrases",
    "end_call_message",
    "voicemail_message",
    "voicemail_detection",
    "max_duration_seconds",
    "summary_prompt",
    "structured_data_schema",
    "success_rubric",
    "recording_enabled",
    "recording_format",
    "server_messages",
    "metadata",
)

NAME_MAX = 40
MAX_TOKENS_RANGE = (1, 10_000)
MAX_DURATION_RANGE = (10, 43_200)
END_CALL_PHRASE_MAX = 140
METADATA_MAX_BYTES = 16_384
# Types Vapi hands to the server to act on, which voiceops does not: subscribing would take the
# action away from Vapi and leave it undone (or leave Vapi waiting for an answer it never gets).
NOT_ACTED_ON = {
    "phone-call-control": "when subscribed, Vapi leaves forwarding and hang-up to the server, and "
    "voiceops does not carry them out, so transfers and end-call would never happen. "
    "Leave it out and Vapi does them itself.",
    "voice-input": "it is sent only for a custom voice provider, which voiceops is not; "
    "the caller would hear nothing.",
}
SCHEMA_TYPES = ("string", "number", "integer", "boolean", "array", "object")


def _one_of(value: Any, allowed: tuple[str, ...], what: str) -> str | None:
    if value in allowed:
        return None
    return f"Unknown {what} {value!r}. Vapi accepts: {', '.join(allowed)}."


def _schema_error(schema: Any) -> str | None:
    """Vapi's structuredDataPlan.schema is a JSON Schema with a top-level ``type``."""
    if schema in (None, {}):
        return None
    if not isinstance(schema, dict):
        return 'Must be a JSON object (a JSON Schema), e.g. {"type": "object", "properties": {...}}.'
    try:
        validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        return f"Not a valid JSON Schema at {where}: {exc.message}"
    if schema.get("type") not in SCHEMA_TYPES:
        return f'The schema needs a top-level "type", one of: {", ".join(SCHEMA_TYPES)}.'
    return None


def _number_error(value: Any, low: float, high: float, what: str) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{what} must be a number between {low:g} and {high:g}."
    if value != value or not low <= value <= high:  # NaN compares unequal to itself
        return f"{what} must be between {low:g} and {high:g} (got {value:g})."
    return None


def assistant_config_errors(*, data: Mapping[str, Any], partial: bool = False) -> dict[str, list[str]]:
    """Field errors for an assistant config; empty when valid.

    ``partial`` skips fields absent from ``data`` (PATCH-style updates).
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str | None) -> None:
        if message:
            errors.setdefault(field, []).append(message)

    def has(field: str) -> bool:
        return field in data or not partial

    if has("name"):
        name = str(data.get("name") or "").strip()
        if not name:
            add("name", "A name is required.")
        elif len(name) > NAME_MAX:
            add("name", f"Vapi limits names to {NAME_MAX} characters (this one has {len(name)}).")
    if has("temperature"):
        add("temperature", _number_error(data.get("temperature"), 0, 2, "Temperature"))
    if has("max_tokens"):
        add("max_tokens", _number_error(data.get("max_tokens"), *MAX_TOKENS_RANGE, "Max tokens"))
    if has("max_duration_seconds"):
        add(
            "max_duration_seconds",
            _number_error(data.get("max_duration_seconds"), *MAX_DURATION_RANGE, "Max duration (seconds)"),
        )
    for field, allowed, what in (
        ("model_provider", vapi_enums.MODEL_PROVIDERS, "model provider"),
        ("voice_provider", vapi_enums.VOICE_PROVIDERS, "voice provider"),
        ("transcriber_provider", vapi_enums.TRANSCRIBER_PROVIDERS, "transcriber provider"),
        ("first_message_mode", vapi_enums.FIRST_MESSAGE_MODES, "first message mode"),
        ("recording_format", vapi_enums.RECORDING_FORMATS, "recording format"),
        ("success_rubric", vapi_enums.SUCCESS_RUBRICS, "success rubric"),
    ):
        if not has(field) or (field == "success_rubric" and not data.get(field)):
            continue
        add(field, _one_of(data.get(field), allowed, what))
    for field, label in (("model_name", "A model name"), ("voice_id", "A voice id")):
        if has(field) and not str(data.get(field) or "").strip():
            add(field, f"{label} is required.")

    if has("server_messages"):
        messages = data.get("server_messages")
        if messages is None:
            messages = []
        if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
            add("server_messages", "Must be a list of message type names.")
        else:
            unknown = [m for m in messages if m not in vapi_enums.SERVER_MESSAGES]
            for message in messages:
                if message in NOT_ACTED_ON:
                    add("server_messages", f"{message!r} cannot be subscribed: {NOT_ACTED_ON[message]}")
            if unknown:
                add(
                    "server_messages",
                    f"Unknown server message type(s): {', '.join(map(repr, unknown))}. "
                    f"Allowed: {', '.join(vapi_enums.SERVER_MESSAGES)}.",
                )
            if len(set(messages)) != len(messages):
                add("server_messages", "Each message type may appear only once.")

    if has("end_call_phrases"):
        phrases = data.get("end_call_phrases")
        if phrases is None:
            phrases = []
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            add("end_call_phrases", "Must be a list of phrases (strings).")
        else:
            for phrase in phrases:
                if not 2 <= len(phrase.strip()) <= END_CALL_PHRASE_MAX:
                    add(
                        "end_call_phrases",
                        f"Each phrase needs 2 to {END_CALL_PHRASE_MAX} characters "
                        f"({phrase[:20]!r} does not).",
                    )
                    break

    if has("structured_data_schema"):
        add("structured_data_schema", _schema_error(data.get("structured_data_schema")))

    if has("voicemail_detection"):
        for message in voicemail_plan_errors(data.get("voicemail_detection")):
            add("voicemail_detection", message)

    if has("metadata"):
        metadata = data.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            add("metadata", "Must be a JSON object.")
        elif metadata:
            try:
                size = len(json.dumps(metadata))
            except (TypeError, ValueError):
                add("metadata", "Must contain only JSON values.")
            else:
                if size > METADATA_MAX_BYTES:
                    add("metadata", f"Too large ({size} bytes; at most {METADATA_MAX_BYTES}).")
    return errors


def assistant_validate(*, assistant: Any) -> None:
    """Raise ``DomainError`` with field errors when the assistant's config is not pushable."""
    errors = assistant_config_errors(data=assistant.config_data())
    if errors:
        summary = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        raise DomainError(f"Invalid assistant configuration: {summary}", code="invalid_config", fields=errors)
