"""The outbound ledger: every dial attempt, every allow/block decision, and the global switch.

Why these are rows and not log lines: "why was this number called (or not) at 08:05?" must be
answered from the database, and crash safety needs the attempt to exist *before* the request
to Vapi leaves (see ``calls.services.campaigns.dialing``).
"""

from __future__ import annotations

from django.db import models

from calls.enums import AttemptState, DecisionRule

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
    rows, counted under one advisory lock (``calls.services.campaigns.budget``).
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
