"""API representations of calls, customers and webhook events (campaigns: ``calls.campaigns.serializers``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from assistants.models import Assistant, PhoneNumber
from calls.enums import Outcome
from calls.models import (
    Call,
    CallControl,
    CallTransfer,
    Customer,
    TranscriptTurn,
    WebhookEvent,
)
from calls.models.customers import validate_time_zone
from calls.services.control import call_listen_url
from tools.models import ToolInvocation


class TranscriptTurnSerializer(serializers.ModelSerializer):
    class Meta:
        model = TranscriptTurn
        fields = ["role", "text", "seconds_from_start"]


class ToolInvocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ToolInvocation
        fields = [
            "tool_call_id",
            "name",
            "arguments",
            "result",
            "error",
            "latency_ms",
            "state",
            "outcome",
            "created_at",
        ]


CALL_EXAMPLE = {
    "id": 7,
    "vapi_id": "c8f1b3d2-4a5e-4f6a-9b7c-1d2e3f4a5b6c",
    "direction": "outbound",
    "status": "ended",
    "ended_reason": "customer-ended-call",
    "outcome": "completed",
    "started_at": "2026-11-24T15:00:03Z",
    "ended_at": "2026-11-24T15:02:41Z",
    "duration_seconds": 158.2,
    "cost": 0.1342,
    "summary": "The caller booked a cleaning for Tuesday at 3 pm.",
    "structured_data": {"booked": True},
    "success_evaluation": "true",
    "ended_message": "",
    "structured_outputs": {
        "5f0c6f8e-0b8e-4d0a-9a57-7f1a3c2b9d10": {"name": "appointment_booked", "result": True}
    },
    "scorecards": {},
    "performance_metrics": {"turnLatencyAverage": 1184.5, "modelLatencyAverage": 512.3},
    "report_transfers": [],
    "variable_values": {"appointment_time": "Tuesday at 3 pm"},
    "recording_url": "https://storage.vapi.ai/recording.wav",
    "video_recording_url": "",
    "log_url": "https://storage.vapi.ai/call-log.jsonl.gz",
    "pcap_url": "",
    "customer_number": "+12025550123",
    "assistant": 1,
    "campaign": None,
    "customer": 42,
    "phone_number": 1,
    "assistant_version": 3,
    "has_final_report": True,
    "recovered_at": None,
    "transcript": [
        {"role": "assistant", "text": "Hi, this is Riley from Example Dental.", "seconds_from_start": 0.4},
        {"role": "user", "text": "I'd like to book a cleaning.", "seconds_from_start": 3.1},
    ],
    "tool_invocations": [
        {
            "tool_call_id": "call_VaJ3gk2Z",
            "name": "book_appointment",
            "arguments": {"starts_at": "2026-12-01T15:00:00Z"},
            "result": "You're booked for Tuesday at 3 pm.",
            "error": "",
            "latency_ms": 41.5,
            "state": "succeeded",
            "outcome": "booked",
            "created_at": "2026-11-24T15:01:10Z",
        }
    ],
    "created_at": "2026-11-24T15:00:00Z",
    "updated_at": "2026-11-24T15:02:45Z",
}


class CallTransferSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallTransfer
        fields = ["source", "destination", "destination_label", "detail", "at"]
        read_only_fields = fields


class CallControlItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallControl
        fields = ["action", "content", "destination", "by", "state", "error", "created_at"]
        read_only_fields = fields


class RoutingDecisionSerializer(serializers.Serializer):
    rule = serializers.IntegerField(source="rule_id", allow_null=True)
    rule_name = serializers.CharField()
    assistant = serializers.IntegerField(source="assistant_id", allow_null=True)
    refused = serializers.BooleanField()
    reason = serializers.CharField()
    decided_at = serializers.DateTimeField()


@extend_schema_serializer(examples=[OpenApiExample("An ended call", value=CALL_EXAMPLE, response_only=True)])
class CallSerializer(serializers.ModelSerializer):
    cost = serializers.DecimalField(
        max_digits=12, decimal_places=6, coerce_to_string=False, read_only=True, allow_null=True
    )
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True, read_only=True)
    recording_url = serializers.CharField(read_only=True, help_text="URL of the recording; empty when none.")
    video_recording_url = serializers.CharField(read_only=True, help_text="Video URL; empty when none.")
    log_url = serializers.CharField(read_only=True, help_text="Vapi's call log URL; empty when none.")
    pcap_url = serializers.CharField(read_only=True, help_text="Packet capture URL; empty when none.")
    transcript = TranscriptTurnSerializer(
        source="turns",
        many=True,
        read_only=True,
        help_text=(
            "The spoken conversation: caller and assistant turns in order; no system prompt, no tool rows."
        ),
    )
    tool_invocations = ToolInvocationSerializer(many=True, read_only=True)
    transfers = CallTransferSerializer(many=True, read_only=True)
    controls = CallControlItemSerializer(many=True, read_only=True)
    listen_url = serializers.SerializerMethodField(
        help_text="Vapi's websocket of the live audio, when given."
    )
    routing = serializers.SerializerMethodField(
        help_text="Inbound calls on routed numbers: the rule that matched and why (null otherwise)."
    )

    class Meta:
        model = Call
        fields = [
            "id",
            "vapi_id",
            "direction",
            "status",
            "ended_reason",
            "outcome",
            "started_at",
            "ended_at",
            "duration_seconds",
            "cost",
            "summary",
            "structured_data",
            "success_evaluation",
            "ended_message",
            "structured_outputs",
            "scorecards",
            "performance_metrics",
            "report_transfers",
            "variable_values",
            "recording_url",
            "video_recording_url",
            "log_url",
            "pcap_url",
            "customer_number",
            "assistant",
            "campaign",
            "customer",
            "phone_number",
            "assistant_version",
            "has_final_report",
            "recovered_at",
            "transcript",
            "tool_invocations",
            "transfers",
            "controls",
            "listen_url",
            "routing",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_listen_url(self, call: Call) -> str:
        return call_listen_url(call=call)

    @extend_schema_field(RoutingDecisionSerializer(allow_null=True))
    def get_routing(self, call: Call) -> dict[str, Any] | None:
        decision = getattr(call, "routing", None)
        return RoutingDecisionSerializer(decision).data if decision is not None else None


def _variables(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise serializers.ValidationError("Must be an object of variable name to value.")
    if len(value) > 100:
        raise serializers.ValidationError("At most 100 variables.")
    return value


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Call a customer now",
            request_only=True,
            value={
                "assistant": 1,
                "customer_number": "+12025550123",
                "customer_name": "Ada Lovelace",
                "variables": {"appointment_time": "Tuesday at 3 pm"},
            },
        )
    ]
)
class CallCreateSerializer(serializers.Serializer):
    assistant = serializers.PrimaryKeyRelatedField(queryset=Assistant.objects.all())
    customer_number = PhoneNumberField(help_text="E.164, e.g. +12025550123.")
    customer_name = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    phone_number = serializers.PrimaryKeyRelatedField(
        queryset=PhoneNumber.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The number to call from; default VAPI_PHONE_NUMBER_ID.",
    )
    variables = serializers.JSONField(
        required=False, default=dict, help_text="assistantOverrides.variableValues: name to value."
    )

    def validate_variables(self, value: Any) -> dict[str, Any]:
        return _variables(value)


class CustomerSerializer(serializers.ModelSerializer):
    number = PhoneNumberField(
        help_text="E.164, e.g. +12025550123.",
        validators=[
            UniqueValidator(Customer.objects.all(), message="A customer with this number already exists.")
        ],
    )
    time_zone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        validators=[validate_time_zone],
        help_text="IANA zone such as America/New_York; empty means inferred from the number.",
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "number",
            "name",
            "email",
            "external_id",
            "time_zone",
            "vip",
            "do_not_call",
            "do_not_call_reason",
            "do_not_call_source",
            "do_not_call_at",
            "consent",
            "consent_source",
            "consent_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "do_not_call",
            "do_not_call_reason",
            "do_not_call_source",
            "do_not_call_at",
            "consent_at",
            "created_at",
            "updated_at",
        ]


class DoNotCallSerializer(serializers.Serializer):
    do_not_call = serializers.BooleanField(default=True, help_text="false takes the number off the list.")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class WebhookEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEvent
        fields = [
            "id",
            "message_type",
            "vapi_call_id",
            "state",
            "attempts",
            "received_at",
            "message_timestamp",
            "processed_at",
            "error",
            "body",
            "response",
        ]
        read_only_fields = fields
