"""API representations of assistants and phone numbers."""

from __future__ import annotations

import zoneinfo
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from assistants.models import Assistant, NumberMode, PhoneNumber
from assistants.routing.hours import opening_hours_errors
from assistants.validation import CONFIG_FIELDS, assistant_config_errors
from tools.models import Tool

SYNC_FIELDS = [
    "vapi_id",
    "push_state",
    "push_error",
    "pushed_at",
    "pushed_version",
    "drift_state",
    "drift_fields",
    "drift_checked_at",
]


def _list_of_strings(value: Any, *, field: str, max_items: int = 100) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise serializers.ValidationError(f"{field} must be a list of strings.")
    if len(value) > max_items:
        raise serializers.ValidationError(f"{field} may hold at most {max_items} entries.")
    return value


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Create a scheduling assistant",
            request_only=True,
            value={
                "name": "Riley (scheduling)",
                "first_message": "Hi, this is Riley from Example Dental. How can I help?",
                "system_prompt": "You are Riley, a friendly scheduling assistant for Example Dental.",
                "model_provider": "openai",
                "model_name": "gpt-4o",
                "temperature": 0.4,
                "voice_provider": "11labs",
                "voice_id": "burt",
                "tools": [],
            },
        )
    ]
)
class AssistantSerializer(serializers.ModelSerializer):
    tools = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Tool.objects.all(),
        required=False,
        help_text="Ids of tools the assistant may call.",
    )
    temperature = serializers.FloatField(min_value=0, max_value=2, required=False)
    max_duration_seconds = serializers.IntegerField(min_value=10, max_value=43200, required=False)
    max_tokens = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    end_call_phrases = serializers.JSONField(required=False, help_text="List of strings.")
    server_messages = serializers.JSONField(required=False, help_text="List of Vapi server message types.")
    structured_data_schema = serializers.JSONField(required=False, help_text="A JSON schema object.")
    metadata = serializers.JSONField(required=False, help_text="Free-form object.")

    class Meta:
        model = Assistant
        fields = [
            "id",
            *CONFIG_FIELDS,
            "tools",
            "push_requested_at",
            *SYNC_FIELDS,
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*SYNC_FIELDS, "push_requested_at", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # One set of rules with the admin and the push (assistants.validation); only the
        # fields sent are checked, so a PATCH is judged on what it changes.
        errors = assistant_config_errors(data=attrs, partial=True)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def validate_end_call_phrases(self, value: Any) -> list[str]:
        return _list_of_strings(value, field="end_call_phrases")

    def validate_server_messages(self, value: Any) -> list[str]:
        return _list_of_strings(value, field="server_messages")

    def validate_structured_data_schema(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("structured_data_schema must be a JSON object.")
        return value

    def validate_metadata(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise serializers.ValidationError("metadata must be a JSON object.")
        return value


class PhoneNumberSerializer(serializers.ModelSerializer):
    """A number with the mode we want and the mode Vapi really has (``vapi_differs`` says how
    they differ; empty when in step or not checked yet). ``mode`` changes only through
    ``POST {id}/mode/``, because it PATCHes Vapi first."""

    number = PhoneNumberField(read_only=True)
    vapi_differs = serializers.CharField(read_only=True)

    class Meta:
        model = PhoneNumber
        fields = [
            "id",
            "number",
            "name",
            "vapi_id",
            "provider",
            "mode",
            "assistant",
            "time_zone",
            "opening_hours",
            "transfer_destination",
            "vapi_mode",
            "vapi_assistant_id",
            "vapi_server_url",
            "vapi_checked_at",
            "vapi_differs",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            f for f in fields if f not in ("name", "time_zone", "opening_hours", "transfer_destination")
        ]

    def validate_time_zone(self, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise serializers.ValidationError(f"'{value}' is not an IANA time zone such as Europe/Berlin.")
        return value

    def validate_opening_hours(self, value: Any) -> Any:
        errors = opening_hours_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value


class PhoneNumberModeSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=NumberMode.choices)
    assistant = serializers.PrimaryKeyRelatedField(
        queryset=Assistant.objects.all(),
        allow_null=True,
        required=False,
        default=None,
        help_text="Fixed: the assistant bound in Vapi (required). Routed: the default when no rule matches.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["mode"] == NumberMode.FIXED and attrs.get("assistant") is None:
            raise serializers.ValidationError(
                {"assistant": "A fixed number needs the assistant it is bound to."}
            )
        return attrs


class PhoneNumberBindSerializer(serializers.Serializer):
    assistant = serializers.PrimaryKeyRelatedField(
        queryset=Assistant.objects.all(),
        allow_null=True,
        help_text="The assistant inbound calls go to; null to unbind (Vapi then asks us per call).",
    )
