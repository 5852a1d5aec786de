"""Assistants configured as data, and the phone numbers that route to them."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from phonenumber_field.modelfields import PhoneNumberField
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


class NumberMode(models.TextChoices):
    """How inbound calls on a number find their assistant, in voiceops and in Vapi."""

    FIXED = "fixed", "Fixed: bound to one assistant in Vapi"
    ROUTED = "routed", "Routed: voiceops chooses on every call"


class VapiRoute(models.TextChoices):
    """What Vapi's copy of the number really does (read by import and the drift check)."""

    UNKNOWN = "unknown", "Not checked"
    FIXED = "fixed", "Bound to an assistant"
    ROUTED = "routed", "No assistant, server URL set (assistant-request)"
    UNSET = "unset", "No assistant and no server URL: calls fail"
    OTHER = "other", "Squad or workflow"
    MISSING = "missing", "Not in Vapi"


def default_opening_hours() -> dict[str, Any]:
    """Monday to Friday 09:00-17:00 in the number's time zone."""
    day = [["09:00", "17:00"]]
    return {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": [], "sun": []}


class PhoneNumber(models.Model):
    """A Vapi phone number, fixed (bound to one assistant in Vapi, which then never asks us) or
    routed (no assistant in Vapi, our server URL set: Vapi sends assistant-request per call).

    ``mode`` and ``assistant`` say what we want; the ``vapi_*`` fields what Vapi last said it
    has, so the admin and the API can show when the two differ.
    """

    number = PhoneNumberField(unique=True)
    name = models.CharField(max_length=100, blank=True)
    vapi_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    provider = models.CharField(max_length=30, blank=True)
    mode = models.CharField(max_length=10, choices=NumberMode.choices, default=NumberMode.FIXED)
    assistant = models.ForeignKey(
        Assistant,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="phone_numbers",
        help_text="Fixed: the assistant bound in Vapi. Routed: the default when no routing rule matches.",
    )
    time_zone = models.CharField(
        max_length=64, default="UTC", help_text="Opening hours and closures are read in this IANA zone."
    )
    opening_hours = models.JSONField(
        default=default_opening_hours,
        blank=True,
        help_text='Per weekday, e.g. {"mon": [["09:00", "17:00"]], "sat": []}; "24:00" closes at midnight.',
    )
    transfer_destination = models.CharField(
        max_length=40, blank=True, help_text="E.164 number for transfer-destination-request."
    )
    vapi_mode = models.CharField(max_length=10, choices=VapiRoute.choices, default=VapiRoute.UNKNOWN)
    vapi_assistant_id = models.CharField(max_length=64, blank=True)
    vapi_server_url = models.CharField(max_length=2000, blank=True)  # as Vapi reports it, may be empty
    vapi_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mode__in=NumberMode.values), name="phone_number_mode_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(vapi_mode__in=VapiRoute.values), name="phone_number_vapi_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'Number'} {self.number}"

    def clean(self) -> None:
        from assistants.routing.hours import opening_hours_errors

        errors: dict[str, Any] = {}
        if self.time_zone not in zoneinfo.available_timezones():
            errors["time_zone"] = f"'{self.time_zone}' is not an IANA time zone such as Europe/Berlin."
        hours = opening_hours_errors(self.opening_hours)
        if hours:
            errors["opening_hours"] = hours
        if errors:
            raise ValidationError(errors)

    @property
    def vapi_differs(self) -> str:
        """Why Vapi's copy differs from what we want ("" when in step or not checked yet)."""
        if self.vapi_mode == VapiRoute.UNKNOWN:
            return ""
        if self.vapi_mode != self.mode:
            return (
                f"Vapi has: {VapiRoute(self.vapi_mode).label}; voiceops wants: {NumberMode(self.mode).label}."
            )
        if self.mode == NumberMode.FIXED:
            wanted = self.assistant.vapi_id if self.assistant is not None else ""
            if (wanted or "") != self.vapi_assistant_id:
                have = self.vapi_assistant_id or "(none)"
                return f"Vapi binds assistant {have}; voiceops wants {wanted or '(none)'}."
        return ""


class RuleWhen(models.TextChoices):
    ANY = "any", "Any time"
    OPEN = "open", "During opening hours"
    CLOSED = "closed", "Outside opening hours (or a closure)"


class RuleCaller(models.TextChoices):
    ANY = "any", "Any caller"
    KNOWN = "known", "Known customer"
    UNKNOWN = "unknown", "Unknown caller"
    VIP = "vip", "VIP customer"


class RuleAction(models.TextChoices):
    ASSISTANT = "assistant", "Answer with an assistant"
    REFUSE = "refuse", "Refuse (spoken message, never connected)"


DEFAULT_REFUSAL = "Sorry, we can't take your call. Goodbye."


class RoutingRule(models.Model):
    """One line of a routed number's routing table: conditions, then an assistant or a refusal.

    Rules are read in ``position`` order and the first whose every condition holds wins; an
    empty condition matches everyone, so a last rule with none is the default.
    """

    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="routing_rules")
    position = models.PositiveIntegerField(default=0, help_text="Lower runs first.")
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    when = models.CharField(max_length=10, choices=RuleWhen.choices, default=RuleWhen.ANY)
    caller = models.CharField(max_length=10, choices=RuleCaller.choices, default=RuleCaller.ANY)
    caller_numbers = models.JSONField(
        default=list,
        blank=True,
        help_text='Caller numbers or prefixes in E.164 form, e.g. ["+1415", "+14155550123"]; empty: any.',
    )
    action = models.CharField(max_length=10, choices=RuleAction.choices, default=RuleAction.ASSISTANT)
    assistant = models.ForeignKey(
        Assistant, null=True, blank=True, on_delete=models.PROTECT, related_name="routing_rules"
    )
    refusal_message = models.CharField(
        max_length=500, blank=True, help_text=f"Spoken to a refused caller. Default: {DEFAULT_REFUSAL!r}"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["phone_number", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(when__in=RuleWhen.values), name="routing_rule_when_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(caller__in=RuleCaller.values), name="routing_rule_caller_valid"
            ),
            models.CheckConstraint(
                condition=(models.Q(action=RuleAction.ASSISTANT) & models.Q(assistant__isnull=False))
                | models.Q(action=RuleAction.REFUSE),
                name="routing_rule_assistant_needed",
                violation_error_message="A rule that answers with an assistant needs the assistant.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from assistants.routing.rules import caller_numbers_errors

        errors = caller_numbers_errors(self.caller_numbers)
        if errors:
            raise ValidationError({"caller_numbers": errors})
        if self.action == RuleAction.ASSISTANT and self.assistant_id is None:
            raise ValidationError({"assistant": "A rule that answers with an assistant needs the assistant."})


class Closure(models.Model):
    """Days a routed number counts as closed whatever its opening hours say (holidays)."""

    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField()
    ends_on = models.DateField(help_text="Inclusive; the same day for a one-day closure.")
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["phone_number", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="closure_ends_after_start",
                violation_error_message="A closure ends on or after the day it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'Closed'} {self.starts_on}–{self.ends_on}"


class RoutingDecision(models.Model):
    """Which rule answered an inbound call and why: "why did this caller get the after-hours
    assistant?" is answered from this row, which outlives later rule edits (names are copied)."""

    call = models.OneToOneField("calls.Call", on_delete=models.CASCADE, related_name="routing")
    phone_number = models.ForeignKey(PhoneNumber, null=True, on_delete=models.SET_NULL, related_name="+")
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule_name = models.CharField(max_length=100, blank=True)
    assistant = models.ForeignKey(
        Assistant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    refused = models.BooleanField(default=False)
    reason = models.TextField()
    decided_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.rule_name or 'No rule'}: {self.reason}"


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
