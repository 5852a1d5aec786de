"""API representations of assistants and phone numbers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from assistants.models import Assistant, PhoneNumber
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
    number = PhoneNumberField(read_only=True)

    class Meta:
        model = PhoneNumber
        fields = [
            "id",
            "number",
            "name",
            "vapi_id",
            "provider",
            "assistant",
            "ask_server",
            "transfer_destination",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PhoneNumberBindSerializer(serializers.Serializer):
    assistant = serializers.PrimaryKeyRelatedField(
        queryset=Assistant.objects.all(),
        allow_null=True,
        help_text="The assistant inbound calls go to; null to unbind (Vapi then asks us per call).",
    )
