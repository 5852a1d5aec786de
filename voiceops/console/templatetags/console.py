"""Template filters for the console: money as money, durations, the zone in force."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone

register = template.Library()


def format_money(value: Any, *, places: int = 2) -> str:
    """``0.1198`` -> ``$0.12``; amounts under a cent keep four places (``$0.0042``)."""
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return "—"
    if amount != 0 and abs(amount) < Decimal("0.01"):
        places = 4
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.{places}f}"


def format_duration(seconds: Any) -> str:
    """``95`` -> ``1:35``; an hour or more -> ``1:02:05``."""
    if seconds is None:
        return "—"
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def money(value: Any) -> str:
    return format_money(value)


@register.filter
def duration(value: Any) -> str:
    return format_duration(value)


@register.simple_tag
def current_zone() -> str:
    return timezone.get_current_timezone_name()


@register.filter
def money_precise(value: Any) -> str:
    """Cost components are fractions of a cent apart: four places (``$0.0178``)."""
    return format_money(value, places=4)


def format_datetime(value: Any) -> str:
    """A datetime in the active display zone, in the console's one format (with seconds, zone)."""
    from django.utils import formats

    if value is None:
        return "—"
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
