"""Outbound campaigns and their recipients."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from phonenumber_field.modelfields import PhoneNumberField

from calls.enums import CampaignState, RecipientState


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
