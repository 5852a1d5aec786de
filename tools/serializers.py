"""API representations of tools, bookable resources and appointments."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from calls.models import Customer
from tools.models import Appointment, Resource, Tool


class ToolSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tool
        fields = ["id", "name", "description", "enabled", "timeout_seconds", "created_at", "updated_at"]
        read_only_fields = fields


class ResourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Resource
        fields = ["id", "name", "kind", "time_zone", "slot_minutes", "working_hours", "active"]
        read_only_fields = fields


class AppointmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Appointment
        fields = [
            "id",
            "resource",
            "customer",
            "call",
            "starts_at",
            "ends_at",
            "status",
            "confirmation_code",
            "notes",
            "rescheduled_from",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Book a cleaning",
            request_only=True,
            value={"resource": 1, "customer": 42, "starts_at": "2026-12-01T15:00:00Z", "notes": "Cleaning"},
        )
    ]
)
class AppointmentBookSerializer(serializers.Serializer):
    resource = serializers.PrimaryKeyRelatedField(queryset=Resource.objects.filter(active=True))
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    starts_at = serializers.DateTimeField()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class AppointmentRescheduleSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="The new start; the slot length stays the resource's.")
