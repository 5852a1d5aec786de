"""The Vapi phone numbers that route to assistants, fixed or routed by voiceops."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from phonenumber_field.modelfields import PhoneNumberField

from assistants.models.assistant import Assistant


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
