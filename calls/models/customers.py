"""People we call or who call us."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from phonenumber_field.modelfields import PhoneNumberField


def validate_time_zone(value: str) -> None:
    """An IANA zone name such as ``America/Los_Angeles``; empty means "infer from the number"."""
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone such as America/New_York.")


class Customer(models.Model):
    number = PhoneNumberField(unique=True, help_text="E.164, e.g. +15555550123.")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    vip = models.BooleanField(default=False, help_text="Routing rules can send VIP callers elsewhere.")

    do_not_call = models.BooleanField(default=False, db_index=True)
    do_not_call_reason = models.CharField(max_length=500, blank=True)
    do_not_call_source = models.CharField(
        max_length=50, blank=True, help_text="Who put the number on the list: tool, admin, api, import."
    )
    do_not_call_at = models.DateTimeField(null=True, blank=True)

    consent = models.BooleanField(default=False)
    consent_source = models.CharField(max_length=200, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(do_not_call=False) | models.Q(do_not_call_at__isnull=False),
                name="customer_dnc_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(consent=False) | models.Q(consent_at__isnull=False),
                name="customer_consent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'Customer'} ({self.number})"
