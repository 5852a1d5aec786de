"""Assistants configured as data, and the phone numbers that route to them."""
from __future__ import annotations

from django.db import models
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords


class PushState(models.TextChoices):
    NEVER_PUSHED = "never-pushed", "Never pushed"
    IN_SYNC = "in-sync", "In sync"
    PENDING = "pending", "Pending"
    FAILED = "failed", "Failed"


class DriftState(models.TextChoices):
    UNKNOWN = "unknown", "Not checked"
    IN_SYNC = "in-sync", "In sync"
    DRIFTED = "drifted", "Drifted"
    MISSING = "missing", "Missing in Vapi"


def default_server_messages() -> list[str]:
    return ["status-update", "end-of-call-report", "tool-calls", "transcript[transcriptType=\"final\"]", "hang"]


class Assistant(models.Model):
    name = models.CharField(max_length=40, unique=True, help_text="Vapi limits names to 40 characters.")
    first_message = models.TextField(blank=True)
    first_message_mode = models.CharField(max_length=60, default="assistant-speaks-first")
    system_prompt = models.TextField(blank=True)

    model_provider = models.CharField(max_length=40, default="openai")
    model_name = models.CharField(max_length=100, default="gpt-4o")
    temperature = models.FloatField(default=0.5)
    max_tokens = models.PositiveIntegerField(default=250)

    voice_provider = models.CharField(max_length=40, default="11labs")
    voice_id = models.CharField(max_length=100, default="burt")

    transcriber_provider = models.CharField(max_length=40, default="deepgram")
    transcriber_model = models.CharField(max_length=60, default="nova-2")
    transcriber_language = models.CharField(max_length=20, default="en")

    tools = models.ManyToManyField("tools.Tool", blank=True, related_name="assistants")
    end_call_phrases = models.JSONField(default=list, blank=True)
    end_call_message = models.TextField(blank=True)
    voicemail_message = models.TextField(blank=True)
    max_duration_seconds = models.PositiveIntegerField(default=600)

    summary_prompt = models.TextField(blank=True)
    structured_data_schema = models.JSONField(default=dict, blank=True)
    success_rubric = models.CharField(max_length=60, blank=True)
    server_messages = models.JSONField(default=default_server_messages, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    # Sync with Vapi
    vapi_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    push_state = models.CharField(max_length=16, choices=PushState.choices, default=PushState.NEVER_PUSHED)
    push_error = models.TextField(blank=True)
    pushed_hash = models.CharField(max_length=64, blank=True)
    pushed_payload = models.JSONField(default=dict, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    pushed_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="History id of the version last pushed to Vapi."
    )
    drift_state = models.CharField(max_length=10, choices=DriftState.choices, default=DriftState.UNKNOWN)
    drift_fields = models.JSONField(default=list, blank=True)
    drift_checked_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(
        excluded_fields=[
            "push_state", "push_error", "pushed_hash", "pushed_payload", "pushed_at", "pushed_version",
            "drift_state", "drift_fields", "drift_checked_at", "updated_at",
        ]
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(temperature__gte=0) & models.Q(temperature__lte=2), name="assistant_temperature_range"
            ),
            models.CheckConstraint(
                condition=models.Q(push_state__in=PushState.values), name="assistant_push_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(max_duration_seconds__gte=10) & models.Q(max_duration_seconds__lte=43200),
                name="assistant_max_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PhoneNumber(models.Model):
    """A Vapi phone number. Bound to an assistant, or left unbound so Vapi asks us (assistant-request)."""

    number = PhoneNumberField(unique=True)
    name = models.CharField(max_length=100, blank=True)
    vapi_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    provider = models.CharField(max_length=30, blank=True)
    assistant = models.ForeignKey(
        Assistant, null=True, blank=True, on_delete=models.SET_NULL, related_name="phone_numbers"
    )
    ask_server = models.BooleanField(
        default=False, help_text="Route inbound calls through assistant-request instead of a fixed assistant."
    )
    transfer_destination = models.CharField(
        max_length=40, blank=True, help_text="E.164 number for transfer-destination-request."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.name or 'Number'} {self.number}"
