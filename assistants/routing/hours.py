"""Opening hours and closures of a number, read in the number's own time zone.

Wall-clock comparisons in the number's zone, so "09:00" stays 09:00 across DST changes.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def opening_hours_errors(value: Any) -> list[str]:
    """Why ``value`` is not ``{"mon": [["09:00", "17:00"], ...], ...}`` (empty list: it is)."""
    if not isinstance(value, dict):
        return ['Opening hours must be an object keyed by weekday, e.g. {"mon": [["09:00", "17:00"]]}.']
    errors = [f"Unknown weekday {key!r}; use {', '.join(WEEKDAYS)}." for key in value if key not in WEEKDAYS]
    for day, windows in value.items():
        if day not in WEEKDAYS:
            continue
        if not isinstance(windows, list):
            errors.append(f'{day}: a list of [open, close] pairs, e.g. [["09:00", "17:00"]].')
            continue
        for window in windows:
            ok = (
                isinstance(window, list)
                and len(window) == 2
                and all(isinstance(t, str) and HHMM.match(t) for t in window)
            )
            if not ok:
                errors.append(f'{day}: {window!r} is not an ["HH:MM", "HH:MM"] pair.')
            elif _minutes(window[0]) >= _minutes(window[1]):
                errors.append(f"{day}: {window[0]}-{window[1]} closes before it opens.")
    return errors


@dataclass(frozen=True)
class OpenState:
    open: bool
    why: str  # e.g. "open: Tue 10:12 Europe/Berlin within 09:00-17:00"


def zone_of(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def open_state(
    *, hours: Any, time_zone: str, closures: list[tuple[dt.date, dt.date, str]], at: dt.datetime
) -> OpenState:
    """Whether the number is open at ``at``; malformed windows count as closed, never raise."""
    local = at.astimezone(zone_of(time_zone))
    stamp = f"{local:%a %H:%M} {time_zone or 'UTC'}"
    for starts_on, ends_on, name in closures:
        if starts_on <= local.date() <= ends_on:
            return OpenState(False, f"closed: {stamp} falls in the closure {name or starts_on.isoformat()}")
    windows = hours.get(WEEKDAYS[local.weekday()]) if isinstance(hours, dict) else None
    now = local.hour * 60 + local.minute
    for window in windows or []:
        try:
            opens, closes = _minutes(window[0]), _minutes(window[1])
        except (ValueError, TypeError, IndexError, AttributeError):
            continue
        if opens <= now < closes:
            return OpenState(True, f"open: {stamp} within {window[0]}-{window[1]}")
    return OpenState(False, f"closed: {stamp} is outside the opening hours")
