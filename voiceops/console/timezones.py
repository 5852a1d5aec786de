"""Which zone a person sees the console in: theirs, else the site's CONSOLE_TIME_ZONE."""

from __future__ import annotations

import zoneinfo

from django.conf import settings


def display_zone_name(user) -> str:
    """The user's zone name; a stale or unknown name falls back to the site default."""
    name = ""
    if getattr(user, "is_authenticated", False):
        from voiceops.console.models import ConsolePreference

        try:
            name = user.console_preference.time_zone
        except ConsolePreference.DoesNotExist:  # no preference saved yet
            name = ""
    name = name or settings.CONSOLE_TIME_ZONE
    return name if name in zoneinfo.available_timezones() else "UTC"


def display_zone(user) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(display_zone_name(user))
