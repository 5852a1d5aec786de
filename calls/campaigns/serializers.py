"""API representations of campaigns, recipients, the recipient upload and dispatch decisions."""

from __future__ import annotations

from typing import Any

import phonenumbers
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from calls.campaigns.services.outcomes import retry_policy_errors
from calls.models import Campaign, CampaignRecipient, DispatchDecision


class RecipientSerializer(serializers.ModelSerializer):
    number = PhoneNumberField(read_only=True)

    class Meta:
        model = CampaignRecipient
        fields = [
            "id",
            "customer",
            "number",
            "name",
            "time_zone",
            "variables",
            "state",
            "attempts",
            "next_attempt_at",
            "last_outcome",
            "last_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        "example": "09:00:00",
        "description": "Wall-clock time in the recipient's own time zone (no offset).",
    }
)
class LocalTimeField(serializers.TimeField):
    """A time of day without a zone; OpenAPI's ``time`` format would demand an offset."""


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Create a reminder campaign",
            request_only=True,
            value={
                "name": "December cleaning reminders",
                "assistant": 1,
                "phone_number": 1,
                "max_concurrent_calls": 3,
                "max_calls_per_minute": 10,
                "window_start": "09:00:00",
                "window_end": "19:00:00",
                "max_attempts": 3,
            },
        )
    ]
)
class CampaignSerializer(serializers.ModelSerializer):
    max_concurrent_calls = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    max_calls_per_minute = serializers.IntegerField(min_value=1, max_value=10000, required=False)
    max_attempts = serializers.IntegerField(min_value=1, max_value=20, required=False)
    retention_days = serializers.IntegerField(min_value=1, max_value=36500, required=False, allow_null=True)
    spend_limit = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True, coerce_to_string=False
    )
    window_start = LocalTimeField(required=False)
    window_end = LocalTimeField(required=False)
    retry_policy = serializers.JSONField(
        required=False,
        help_text=(
            "Per outcome group (busy, no-answer, voicemail, not-reached, failed): "
            '{"retry": bool, "delay_minutes": 0-43200, "max_attempts": 1-20 or null}. '
            "A group's max_attempts counts the attempts that ended in it; the campaign's "
            "max_attempts caps all of them."
        ),
    )
    reached_min_seconds = serializers.IntegerField(min_value=0, max_value=3600, required=False)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "assistant",
            "phone_number",
            "phone_numbers",
            "state",
            "state_reason",
            "state_changed_at",
            "starts_at",
            "ends_at",
            "max_concurrent_calls",
            "max_calls_per_minute",
            "window_start",
            "window_end",
            "retry_policy",
            "max_attempts",
            "reached_min_seconds",
            "reached_requires_success",
            "reached_structured_field",
            "spend_limit",
            "requires_consent",
            "default_region",
            "retention_days",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["state", "state_reason", "state_changed_at", "created_at", "updated_at"]
        extra_kwargs = {"phone_numbers": {"required": False}}

    def validate_default_region(self, value: str) -> str:
        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise serializers.ValidationError("Use a two-letter region code such as US or GB.")
        return value

    def validate_retry_policy(self, value: Any) -> dict[str, Any]:
        """The admin form's rules, so a policy the API accepts is one the form can show."""
        errors = retry_policy_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current = self.instance

        def value(name: str) -> Any:
            return attrs[name] if name in attrs else getattr(current, name, None)

        errors: dict[str, str] = {}
        start, end = value("window_start"), value("window_end")
        if start is not None and end is not None and not start < end:
            errors["window_end"] = "Must be later than window_start."
        starts, ends = value("starts_at"), value("ends_at")
        if starts is not None and ends is not None and not ends > starts:
            errors["ends_at"] = "Must be later than starts_at."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class RejectedRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    number = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class AcceptedRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    time_zone = serializers.CharField(allow_blank=True)
    variables = serializers.DictField(child=serializers.CharField(allow_blank=True))
    new_customer = serializers.BooleanField()
    customer_updates = serializers.DictField(
        child=serializers.CharField(),
        help_text="What the row changes on a known customer (name, time_zone); empty when nothing.",
    )


class ImportReportSerializer(serializers.Serializer):
    """What the CSV upload accepted and rejected (row by row, with the reason)."""

    dry_run = serializers.BooleanField()
    total_rows = serializers.IntegerField()
    accepted_count = serializers.IntegerField()
    rejected_count = serializers.IntegerField()
    created_recipients = serializers.IntegerField()
    created_customers = serializers.IntegerField()
    updated_customers = serializers.IntegerField()
    accepted = AcceptedRowSerializer(many=True)
    rejected = RejectedRowSerializer(many=True)


class RecipientUploadSerializer(serializers.Serializer):
    csv = serializers.CharField(
        trim_whitespace=False,
        help_text="CSV text with a header row: number (required), name, timezone, and any variable columns.",
    )
    dry_run = serializers.BooleanField(default=False, help_text="Validate only; add nothing.")


class RecipientUploadFileSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A UTF-8 CSV file.")
    dry_run = serializers.BooleanField(default=False)


class DispatchDecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DispatchDecision
        fields = ["id", "at", "rule", "allowed", "detail", "campaign", "recipient", "customer", "attempt"]
        read_only_fields = fields
