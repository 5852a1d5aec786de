"""Outbound campaigns, their recipients, and the outbound ledger: every dial attempt, every
allow/block decision, the global switch and the org's concurrency budget.

Why the ledger is rows and not log lines: "why was this number called (or not) at 08:05?" must be
answered from the database, and crash safety needs the attempt to exist *before* the request
to Vapi leaves (see ``calls.campaigns.services.dialing``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from phonenumber_field.modelfields import PhoneNumberField

from calls.enums import AttemptState, CampaignState, DecisionRule, RecipientState


def default_retry_policy() -> dict[str, Any]:
    """Per outcome group: retry or not, after how many minutes, and at most how many attempts may
    end that way (``None``: only the campaign's ``max_attempts``, which caps every group)."""
    return {
        "busy": {"retry": True, "delay_minutes": 30, "max_attempts": None},
        "no-answer": {"retry": True, "delay_minutes": 120, "max_attempts": None},
        "voicemail": {"retry": True, "delay_minutes": 240, "max_attempts": None},
        "not-reached": {"retry": True, "delay_minutes": 60, "max_attempts": None},
        "failed": {"retry": True, "delay_minutes": 60, "max_attempts": None},
    }


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    assistant = models.ForeignKey("assistants.Assistant", on_delete=models.PROTECT, related_name="campaigns")
    phone_number = models.ForeignKey(
        "assistants.PhoneNumber", on_delete=models.PROTECT, related_name="campaigns", null=True, blank=True
    )
    phone_numbers = models.ManyToManyField(
        "assistants.PhoneNumber", blank=True, related_name="pooled_campaigns", help_text="Optional pool."
    )
    state = models.CharField(max_length=12, choices=CampaignState.choices, default=CampaignState.DRAFT)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    max_concurrent_calls = models.PositiveIntegerField(default=5)
    max_calls_per_minute = models.PositiveIntegerField(default=30)
    window_start = models.TimeField(default=dt.time(8, 0), help_text="Recipient's local time.")
    window_end = models.TimeField(default=dt.time(21, 0), help_text="Recipient's local time.")
    retry_policy = models.JSONField(default=default_retry_policy, blank=True)
    max_attempts = models.PositiveIntegerField(default=3)
    # What counts as "reached" (the recipient is done); any other connected call follows the
    # retry policy's "not-reached" group. A 3-second hang-up is not a conversation.
    reached_min_seconds = models.PositiveIntegerField(
        default=15, help_text="A connected call shorter than this is not a reach."
    )
    reached_requires_success = models.BooleanField(
        default=False, help_text="Also require a positive success evaluation from the call's analysis."
    )
    reached_structured_field = models.CharField(
        max_length=100,
        blank=True,
        help_text="Also require this structured-data field to be true/non-empty (e.g. 'booked').",
    )
    spend_limit = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    requires_consent = models.BooleanField(default=False)
    default_region = models.CharField(max_length=2, default="US")
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    state_reason = models.CharField(max_length=500, blank=True, help_text="Why the state last changed.")
    state_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=CampaignState.values), name="campaign_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(max_concurrent_calls__gte=1), name="campaign_cap_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(max_calls_per_minute__gte=1), name="campaign_rate_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(max_attempts__gte=1), name="campaign_attempts_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(window_start__lt=models.F("window_end")), name="campaign_window_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(starts_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="campaign_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignRecipient(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey("calls.Customer", on_delete=models.PROTECT, related_name="campaign_entries")
    number = PhoneNumberField()
    name = models.CharField(max_length=200, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    variables = models.JSONField(default=dict, blank=True, help_text="assistantOverrides.variableValues.")
    state = models.CharField(max_length=12, choices=RecipientState.choices, default=RecipientState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=20, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "id"]
        indexes = [
            models.Index(fields=["campaign", "state", "next_attempt_at"], name="recipient_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="recipient_once_per_campaign"),
            models.CheckConstraint(
                condition=models.Q(state__in=RecipientState.values), name="recipient_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.number} in {self.campaign_id}"


VAPI_NAME_PREFIX = "voiceops-attempt-"


class DialAttempt(models.Model):
    """One dial of one number, recorded before the Vapi request.

    States move reserved -> requesting -> accepted -> ended (or rejected / unknown -> lost,
    or reserved -> abandoned). ``requesting`` is committed before the HTTP request is sent, so
    after a crash a ``reserved`` row was certainly never sent and a ``requesting``/``unknown``
    row must be reconciled against Vapi (by the ``name`` we sent), never re-sent.
    """

    idempotency_key = models.CharField(max_length=200, unique=True)
    campaign = models.ForeignKey(
        "calls.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="dial_attempts"
    )
    recipient = models.ForeignKey(
        "calls.CampaignRecipient",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="dial_attempts",
    )
    customer = models.ForeignKey(
        "calls.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="dial_attempts"
    )
    number = models.CharField(max_length=40, help_text="E.164 number dialed.")
    customer_name = models.CharField(max_length=200, blank=True)
    attempt_number = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=12, choices=AttemptState.choices, default=AttemptState.RESERVED)
    assistant = models.ForeignKey(
        "assistants.Assistant", null=True, blank=True, on_delete=models.SET_NULL, related_name="dial_attempts"
    )
    phone_number = models.ForeignKey(
        "assistants.PhoneNumber",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="dial_attempts",
    )
    phone_number_vapi_id = models.CharField(max_length=64, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    vapi_call_id = models.CharField(max_length=64, blank=True)
    call = models.ForeignKey(
        "calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="dial_attempts"
    )
    outcome = models.CharField(max_length=20, blank=True)
    error = models.TextField(blank=True)
    reconcile_tries = models.PositiveIntegerField(default=0)
    # Exponential back-off between lookups of an ``unknown`` attempt (Vapi may be down for a while).
    next_reconcile_at = models.DateTimeField(null=True, blank=True)
    # True once the end-of-call report decided ``outcome``; a status-update only gives a provisional one.
    outcome_final = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["campaign", "created_at"], name="attempt_campaign_created"),
            models.Index(fields=["customer", "created_at"], name="attempt_customer_created"),
            models.Index(fields=["state", "created_at"], name="attempt_state_created"),
            models.Index(fields=["state", "next_reconcile_at"], name="attempt_state_reconcile"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=AttemptState.values), name="attempt_state_valid"
            ),
            models.UniqueConstraint(
                fields=["recipient", "attempt_number"],
                condition=models.Q(recipient__isnull=False),
                name="attempt_once_per_recipient_number",
            ),
            models.UniqueConstraint(
                fields=["vapi_call_id"], condition=~models.Q(vapi_call_id=""), name="attempt_unique_vapi_call"
            ),
            models.CheckConstraint(
                condition=~models.Q(state__in=["accepted", "ended"]) | ~models.Q(vapi_call_id=""),
                name="attempt_accepted_has_call_id",
            ),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.pk} ({self.state})"

    @property
    def vapi_name(self) -> str:
        """The ``name`` sent on POST /call: Vapi has no idempotency key, so reconciliation finds the
        call by this label (short: Vapi limits call names to 40 characters)."""
        return f"{VAPI_NAME_PREFIX}{self.pk}"

    @staticmethod
    def id_from_vapi_name(name: object) -> int | None:
        """The attempt id a Vapi call's ``name`` carries, when it is one of our labels."""
        if not isinstance(name, str) or not name.startswith(VAPI_NAME_PREFIX):
            return None
        digits = name[len(VAPI_NAME_PREFIX) :]
        return int(digits) if digits.isdigit() and len(digits) < 19 else None


class DispatchDecision(models.Model):
    """Why a number was (or was not) dialed at a given moment; one row per decision."""

    at = models.DateTimeField(db_index=True)
    campaign = models.ForeignKey(
        "calls.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="decisions"
    )
    recipient = models.ForeignKey(
        "calls.CampaignRecipient", null=True, blank=True, on_delete=models.CASCADE, related_name="decisions"
    )
    customer = models.ForeignKey(
        "calls.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="dispatch_decisions"
    )
    attempt = models.ForeignKey(
        DialAttempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    rule = models.CharField(max_length=20, choices=DecisionRule.choices)
    allowed = models.BooleanField()
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "at"], name="decision_recipient_at"),
            models.Index(fields=["customer", "at"], name="decision_customer_at"),
            models.Index(fields=["campaign", "at"], name="decision_campaign_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rule__in=DecisionRule.values), name="decision_rule_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(allowed=False) | models.Q(rule="allowed"), name="decision_allowed_rule"
            ),
        ]

    def __str__(self) -> str:
        return f"{'allow' if self.allowed else 'block'} {self.rule} at {self.at:%Y-%m-%d %H:%M:%S}"


class OutboundSwitch(models.Model):
    """The global "pause all outbound" switch: a single row (id=1), with who flipped it and when."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    paused = models.BooleanField(default=False)
    changed_by = models.CharField(max_length=150, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "outbound switch"
        verbose_name_plural = "outbound switches"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="outbound_switch_singleton")]

    def __str__(self) -> str:
        return "Outbound paused" if self.paused else "Outbound enabled"


class OutboundBudget(models.Model):
    """What voiceops knows about the org's concurrency at Vapi: a single row (id=1).

    ``reported_limit`` is the ``subscriptionLimits.concurrencyLimit`` Vapi last sent (it wins over
    VAPI_CONCURRENCY_LIMIT); ``hold_until`` stops every dispatcher after a 429 or a concurrency
    refusal until Vapi's Retry-After has passed. The slots themselves are the active DialAttempt
    rows, counted under one advisory lock (``calls.campaigns.services.budget``).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    reported_limit = models.PositiveIntegerField(null=True, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    hold_until = models.DateTimeField(null=True, blank=True)
    hold_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="outbound_budget_singleton")]

    def __str__(self) -> str:
        return "Outbound budget"
