"""A routed number's routing table, its closures, and the decision recorded per inbound call."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from assistants.models.assistant import Assistant
from assistants.models.phone_numbers import PhoneNumber


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
