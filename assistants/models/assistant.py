"""Assistants configured as data: the Vapi assistant, its transfer destinations, the webhook credential."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from voiceops.vapi import enums as vapi_enums


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
    return [
        "status-update",
        "end-of-call-report",
        "tool-calls",
        'transcript[transcriptType="final"]',
        "hang",
    ]


class Assistant(models.Model):
    name = models.CharField(max_length=40, unique=True, help_text="Vapi limits names to 40 characters.")
    first_message = models.TextField(blank=True)
    first_message_mode = models.CharField(
        max_length=60,
        default="assistant-speaks-first",
        choices=vapi_enums.choices(vapi_enums.FIRST_MESSAGE_MODES),
    )
    system_prompt = models.TextField(blank=True)

    model_provider = models.CharField(
        max_length=40, default="openai", choices=vapi_enums.choices(vapi_enums.MODEL_PROVIDERS)
    )
    model_name = models.CharField(max_length=100, default="gpt-4o")
    temperature = models.FloatField(default=0.5, help_text="0 to 2.")
    max_tokens = models.PositiveIntegerField(default=250)

    voice_provider = models.CharField(
        max_length=40, default="11labs", choices=vapi_enums.choices(vapi_enums.VOICE_PROVIDERS)
    )
    voice_id = models.CharField(max_length=100, default="burt")

    transcriber_provider = models.CharField(
        max_length=40, default="deepgram", choices=vapi_enums.choices(vapi_enums.TRANSCRIBER_PROVIDERS)
    )
    transcriber_model = models.CharField(max_length=60, default="nova-2")
    transcriber_language = models.CharField(max_length=20, default="en")

    tools = models.ManyToManyField("tools.Tool", blank=True, related_name="assistants")
    end_call_phrases = models.JSONField(default=list, blank=True)
    end_call_message = models.TextField(blank=True)
    voicemail_message = models.TextField(blank=True)
    voicemail_detection = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'Vapi\'s voicemailDetection plan, e.g. {"provider": "vapi", "type": "audio"}, or "off". '
            "Empty: Vapi's default (off) for this assistant, but campaign calls turn Vapi's detector on."
        ),
    )
    max_duration_seconds = models.PositiveIntegerField(default=600)

    summary_prompt = models.TextField(blank=True)
    structured_data_schema = models.JSONField(
        default=dict, blank=True, help_text="JSON Schema of the data Vapi extracts after each call."
    )
    success_rubric = models.CharField(
        max_length=60, blank=True, choices=vapi_enums.choices(vapi_enums.SUCCESS_RUBRICS)
    )
    recording_enabled = models.BooleanField(default=True)
    recording_format = models.CharField(
        max_length=10, default="mp3", choices=vapi_enums.choices(vapi_enums.RECORDING_FORMATS)
    )
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
    push_requested_at = models.DateTimeField(null=True, blank=True)
    create_unconfirmed = models.BooleanField(
        default=False,
        help_text="A create request got no clear answer (timeout/5xx): Vapi may hold a copy to adopt.",
    )
    drift_state = models.CharField(max_length=10, choices=DriftState.choices, default=DriftState.UNKNOWN)
    drift_fields = models.JSONField(default=list, blank=True)
    drift_checked_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Sync bookkeeping is written with queryset.update() (no history rows); it is excluded here
    # so that a revert never resurrects an old push state or forgets the Vapi id.
    history = HistoricalRecords(
        excluded_fields=[
            "push_state",
            "push_error",
            "pushed_hash",
            "pushed_payload",
            "pushed_at",
            "pushed_version",
            "drift_state",
            "drift_fields",
            "drift_checked_at",
            "updated_at",
            "push_requested_at",
            "create_unconfirmed",
            "vapi_id",
        ],
        m2m_fields=[tools],
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(temperature__gte=0) & models.Q(temperature__lte=2),
                name="assistant_temperature_range",
            ),
            models.CheckConstraint(
                condition=models.Q(push_state__in=PushState.values), name="assistant_push_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(max_duration_seconds__gte=10) & models.Q(max_duration_seconds__lte=43200),
                name="assistant_max_duration_range",
            ),
            models.CheckConstraint(
                condition=models.Q(drift_state__in=DriftState.values), name="assistant_drift_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The same rules the API and the push service apply (one validator, three callers)."""
        from assistants.validation import assistant_config_errors

        errors = assistant_config_errors(data=self.config_data())
        if errors:
            raise ValidationError(errors)

    def config_data(self) -> dict[str, Any]:
        """The editable config as a plain dict keyed by field name (what the validator reads)."""
        from assistants.validation import CONFIG_FIELDS

        return {name: getattr(self, name) for name in CONFIG_FIELDS}


class TransferKind(models.TextChoices):
    NUMBER = "number", "Phone number"
    SIP = "sip", "SIP URI"


class TransferDestination(models.Model):
    """A person the assistant can transfer a caller to, pushed in Vapi's ``transferCall`` tool.

    When none of an assistant's destinations has a condition, they are pushed as they are and
    Vapi picks one by its description. A department or "opening hours only" on any of them makes
    voiceops decide: the tool is pushed without destinations, Vapi sends
    transfer-destination-request, and voiceops answers by these rows (in position order).
    """

    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE, related_name="transfer_destinations")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=TransferKind.choices, default=TransferKind.NUMBER)
    number = models.CharField(max_length=20, blank=True, help_text="E.164, for a phone number.")
    sip_uri = models.CharField(max_length=300, blank=True, help_text="sip:desk@example.com, for SIP.")
    message = models.CharField(
        max_length=500, blank=True, help_text="What the caller hears before the transfer (empty: silence)."
    )
    description = models.CharField(
        max_length=300, blank=True, help_text="When to use it, for the model (e.g. 'Billing questions')."
    )
    department = models.CharField(
        max_length=60, blank=True, help_text="Chosen when the caller asks for it by this name (e.g. billing)."
    )
    open_hours_only = models.BooleanField(
        default=False, help_text="Only while the called number is open (its opening hours and closures)."
    )

    class Meta:
        ordering = ["assistant", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="number") & ~models.Q(number=""))
                | (models.Q(kind="sip") & ~models.Q(sip_uri="")),
                name="transfer_destination_has_target",
                violation_error_message="A number destination needs the number, a SIP one the SIP URI.",
            ),
        ]

    def __str__(self) -> str:
        return self.department or self.description or self.target

    @property
    def target(self) -> str:
        return self.number if self.kind == TransferKind.NUMBER else self.sip_uri

    @property
    def has_condition(self) -> bool:
        return bool(self.department) or self.open_hours_only

    def clean(self) -> None:
        from assistants.routing.transfers import transfer_destination_errors

        errors = transfer_destination_errors(kind=self.kind, number=self.number, sip_uri=self.sip_uri)
        if errors:
            raise ValidationError(errors)


class WebhookCredential(models.Model):
    """The one webhook credential voiceops keeps in Vapi (provider ``webhook``), referenced by id.

    Only a keyed fingerprint of the authentication plan is stored, never the secret itself:
    it tells whether Vapi's copy must be PATCHed after a secret rotation or a scheme change.
    """

    SINGLETON = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON, editable=False)
    vapi_id = models.CharField(max_length=64, blank=True)
    auth_type = models.CharField(max_length=10, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="webhook_credential_singleton"),
        ]

    def __str__(self) -> str:
        return f"Webhook credential {self.vapi_id or '(not created)'}"
