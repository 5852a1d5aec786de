"""Per-user console preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from calls.models.customers import validate_time_zone


class ConsolePreference(models.Model):
    """A person's display time zone: every timestamp in the console is shown in it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_preference"
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="IANA zone, e.g. America/Chicago. Empty = the site default (CONSOLE_TIME_ZONE).",
    )

    def __str__(self) -> str:
        return f"{self.user} ({self.time_zone or 'default'})"
