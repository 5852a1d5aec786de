"""Fixtures for tool tests: a bookable resource, a future working day, tool-calls messages."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone

from tests.conftest import load_fixture
from tests.factories import ResourceFactory

CALLER = "+14155550123"
_ids = itertools.count(1)


def next_weekday(weekday: int, *, tz: str = "America/New_York", min_days: int = 3) -> dt.date:
    """A date at least ``min_days`` ahead that falls on ``weekday`` (0 = Monday)."""
    today = timezone.now().astimezone(zoneinfo.ZoneInfo(tz)).date()
    day = today + dt.timedelta(days=min_days)
    while day.weekday() != weekday:
        day += dt.timedelta(days=1)
    return day


def at(day: dt.date, hhmm: str, tz: str = "America/New_York") -> dt.datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(hours, minutes), tzinfo=zoneinfo.ZoneInfo(tz))


def tool_call(
    name: str, arguments: Any = None, *, call_id: str | None = None, shape: str = "function"
) -> dict:
    """One toolCallList entry; ``shape`` picks the documented or a lenient variant."""
    call_id = call_id or f"call_test_{next(_ids)}_{uuid.uuid4().hex[:8]}"
    arguments = {} if arguments is None else arguments
    if shape == "function":
        return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    if shape == "top-level":
        return {"id": call_id, "type": "function", "name": name, "arguments": arguments}
    if shape == "parameters":
        return {"id": call_id, "type": "function", "name": name, "parameters": arguments}
    if shape == "function-parameters":
        return {"id": call_id, "type": "function", "function": {"name": name, "parameters": arguments}}
    raise ValueError(shape)


def tool_message(*calls: dict, number: str | None = CALLER, vapi_call_id: str | None = None) -> dict:
    """A tool-calls message built on the contract fixture, with our own toolCallList."""
    message = load_fixture("tool-calls.json")["message"]
    message["toolCallList"] = list(calls)
    message.pop("toolWithToolCallList", None)
    message["call"]["id"] = vapi_call_id or str(uuid.uuid4())
    if number is None:
        message.pop("customer", None)
        message["call"].pop("customer", None)
    else:
        message["customer"]["number"] = number
        message["call"]["customer"]["number"] = number
    return message


@pytest.fixture
def resource(db):
    return ResourceFactory(name="Dr. Patel", time_zone="America/New_York", slot_minutes=30)


@pytest.fixture
def monday() -> dt.date:
    return next_weekday(0)
