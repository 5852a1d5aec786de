"""Turning data into sentences a voice can read out.

Tool results go into the model's context and are usually read out nearly verbatim, so
they are short, single-line, and say times in the listener's own time zone.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

_INVALID_DEFAULTS = {
    "This field is required.",
    "This field may not be null.",
    "This field may not be blank.",
}


def one_line(text: str, *, limit: int = 1000) -> str:
    """Vapi wants single-line strings; collapse whitespace and cap the length."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def encode_result(value: Any) -> str:
    """A handler's answer as the single-line string Vapi expects (structured data as JSON)."""
    if isinstance(value, str):
        return one_line(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def zone(name: str | None, *, fallback: str = "UTC") -> zoneinfo.ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return zoneinfo.ZoneInfo(candidate)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def zone_label(tz: zoneinfo.ZoneInfo) -> str:
    """'America/Los_Angeles' -> 'Los Angeles time'; 'UTC' -> 'UTC'."""
    key = tz.key
    if key in {"UTC", "Etc/UTC", "GMT"}:
        return "UTC"
    return key.rsplit("/", 1)[-1].replace("_", " ") + " time"


def spoken_time(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    """'9:30 AM' / '2 PM' in the given zone."""
    local = moment.astimezone(tz)
    hour = local.hour % 12 or 12
    suffix = "AM" if local.hour < 12 else "PM"
    return f"{hour} {suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d} {suffix}"


def spoken_date(day: dt.date) -> str:
    return f"{day:%A}, {day:%B} {day.day}"


def spoken_datetime(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    """'Tuesday, March 17 at 9:30 AM'."""
    return f"{spoken_date(moment.astimezone(tz).date())} at {spoken_time(moment, tz)}"


def spoken_list(items: list[str]) -> str:
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def spoken_slots(slots: list[dt.datetime], tz: zoneinfo.ZoneInfo) -> str:
    """Slots grouped by day: 'Tuesday, March 17 at 9 AM, 9:30 AM or 10 AM'."""
    by_day: dict[dt.date, list[str]] = {}
    for slot in slots:
        by_day.setdefault(slot.astimezone(tz).date(), []).append(spoken_time(slot, tz))
    parts = [f"{spoken_date(day)} at {spoken_list(times)}" for day, times in by_day.items()]
    return "; ".join(parts)


def spelled_code(code: str) -> str:
    """'K7QX2M' -> 'K 7 Q X 2 M' so a voice reads it one character at a time."""
    return " ".join(code)


def validation_sentence(errors: Any, labels: dict[str, str]) -> str:
    """DRF serializer errors as one sentence the assistant can act on.

    Fields carry their own spoken ``error_messages`` ("I need the date as year-month-day");
    DRF's generic required/blank messages become "I need the <label>".
    """
    sentences: list[str] = []
    if isinstance(errors, dict):
        for name, messages in errors.items():
            label = labels.get(name, name.replace("_", " "))
            for message in _flatten(messages):
                if message in _INVALID_DEFAULTS:
                    sentences.append(f"I need the {label}.")
                elif name == "non_field_errors":
                    sentences.append(_sentence(message))
                else:
                    sentences.append(_sentence(message))
                break
    else:
        sentences.extend(_sentence(m) for m in _flatten(errors))
    return one_line(" ".join(sentences) or "Some of the details were not understood.")


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, list | tuple):
        out: list[str] = []
        for item in messages:
            out.extend(_flatten(item))
        return out
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flatten(value)]
    return [str(messages)]


def _sentence(message: str) -> str:
    message = message.strip()
    return message if message.endswith((".", "?", "!")) else message + "."
