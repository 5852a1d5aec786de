"""Reads: a resource's bookable slots (from working hours, slot length and existing bookings),
and the tool, resource and appointment lists the API and the admin show."""

from __future__ import annotations

import bisect
import datetime as dt
import zoneinfo
from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone

from tools.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, Resource, Tool
from tools.speech import zone

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead "next free slots" looks before saying there is nothing.
SEARCH_HORIZON_DAYS = 60


def resource_zone(resource: Resource) -> zoneinfo.ZoneInfo:
    return zone(resource.time_zone)


def _parse_hhmm(value: str) -> tuple[dt.time, int]:
    """'09:30' -> (09:30, 0); '24:00' -> (00:00, 1), i.e. midnight at the end of the day."""
    hours, minutes = (int(part) for part in str(value).split(":")[:2])
    if (hours, minutes) == (24, 0):
        return dt.time(0), 1
    return dt.time(hours, minutes), 0


def resource_slots_on(*, resource: Resource, day: dt.date) -> list[dt.datetime]:
    """Every slot start of ``day`` (a date in the resource's zone), free or not, in UTC.

    Wall-clock arithmetic in the resource's zone, so a 09:00 opening stays 09:00 across DST.
    Malformed working-hours entries are skipped rather than breaking a live call.
    """
    tz = resource_zone(resource)
    windows = (resource.working_hours or {}).get(WEEKDAY_KEYS[day.weekday()]) or []
    step = dt.timedelta(minutes=resource.slot_minutes)
    slots: list[dt.datetime] = []
    for window in windows:
        try:
            (opens, _), (closes, next_day) = _parse_hhmm(window[0]), _parse_hhmm(window[1])
        except (ValueError, TypeError, IndexError):
            continue
        start = dt.datetime.combine(day, opens, tzinfo=tz)
        end = dt.datetime.combine(day + dt.timedelta(days=next_day), closes, tzinfo=tz)
        while start + step <= end:
            slots.append(start.astimezone(dt.UTC))
            start = start + step
    return sorted(set(slots))


def _busy(resource: Resource, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Active bookings overlapping [start, end), by start. They never overlap each other
    (the exclusion constraint), so sorted by start they are sorted by end too."""
    rows = (
        Appointment.objects.filter(
            resource=resource,
            status__in=ACTIVE_APPOINTMENT_STATUSES,
            starts_at__lt=end,
            ends_at__gt=start,
        )
        .order_by("starts_at")
        .values_list("starts_at", "ends_at")
    )
    return list(rows)


def _free(
    resource: Resource,
    candidates: Iterable[dt.datetime],
    busy: list[tuple[dt.datetime, dt.datetime]],
    *,
    now: dt.datetime,
    limit: int | None = None,
) -> list[dt.datetime]:
    """Candidates (ascending) that are in the future and overlap no booking: O(n log m)."""
    length = dt.timedelta(minutes=resource.slot_minutes)
    starts = [b_start for b_start, _ in busy]
    out = []
    for slot in candidates:
        if slot <= now:
            continue
        # The last booking starting before this slot ends is the only one that can overlap it.
        index = bisect.bisect_left(starts, slot + length) - 1
        if index >= 0 and busy[index][1] > slot:
            continue
        out.append(slot)
        if limit is not None and len(out) >= limit:
            break
    return out


def resource_free_slots_on_date(
    *, resource: Resource, day: dt.date, tz: zoneinfo.ZoneInfo, now: dt.datetime | None = None
) -> list[dt.datetime]:
    """Free future slots whose start falls on ``day`` as the listener (zone ``tz``) counts days."""
    now = now or timezone.now()
    day_start = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    rtz = resource_zone(resource)
    first, last = day_start.astimezone(rtz).date(), day_end.astimezone(rtz).date()
    candidates: list[dt.datetime] = []
    current = first
    while current <= last:
        candidates.extend(
            s for s in resource_slots_on(resource=resource, day=current) if day_start <= s < day_end
        )
        current += dt.timedelta(days=1)
    if not candidates:
        return []
    length = dt.timedelta(minutes=resource.slot_minutes)
    busy = _busy(resource, candidates[0], candidates[-1] + length)
    return _free(resource, sorted(candidates), busy, now=now)


def resource_next_free_slots(
    *, resource: Resource, count: int, after: dt.datetime | None = None, now: dt.datetime | None = None
) -> list[dt.datetime]:
    """The next ``count`` free slots after ``after`` (default now), searching a bounded horizon.

    Bookings are read for the rest of the first day, then two weeks at a time: one query in the
    common case.
    """
    now = now or timezone.now()
    start = max(after or now, now)
    rtz = resource_zone(resource)
    day = start.astimezone(rtz).date()
    horizon = day + dt.timedelta(days=SEARCH_HORIZON_DAYS)
    found: list[dt.datetime] = []
    length = dt.timedelta(minutes=resource.slot_minutes)
    chunk_days = 1  # most answers are later the same day; widen the window only if not
    while day <= horizon and len(found) < count:
        chunk_end = min(day + dt.timedelta(days=chunk_days), horizon + dt.timedelta(days=1))
        chunk_days = 14
        chunk_start = max(start, dt.datetime.combine(day, dt.time(0), tzinfo=rtz).astimezone(dt.UTC))
        chunk_stop = dt.datetime.combine(chunk_end, dt.time(0), tzinfo=rtz).astimezone(dt.UTC) + length
        busy: list[tuple[dt.datetime, dt.datetime]] | None = None
        while day < chunk_end and len(found) < count:
            candidates = [s for s in resource_slots_on(resource=resource, day=day) if s >= start]
            day += dt.timedelta(days=1)
            if not candidates:
                continue
            if busy is None:  # read lazily: a chunk of closed days costs no query
                busy = _busy(resource, chunk_start, chunk_stop)
            found.extend(_free(resource, candidates, busy, now=now, limit=count - len(found)))
        day = chunk_end
    return found[:count]


def resource_is_slot_start(*, resource: Resource, starts_at: dt.datetime) -> bool:
    day = starts_at.astimezone(resource_zone(resource)).date()
    return starts_at.astimezone(dt.UTC) in resource_slots_on(resource=resource, day=day)


def resource_find(*, text: str | int | None) -> Resource | None:
    """A bookable resource by id or (case-insensitive, partial) name; the only one when ``text`` is empty."""
    active = Resource.objects.filter(active=True)
    if text in (None, ""):
        only = list(active[:2])
        return only[0] if len(only) == 1 else None
    value = str(text).strip()
    if value.isdigit():
        found = active.filter(pk=int(value)).first()
        if found:
            return found
    exact = active.filter(name__iexact=value).first()
    if exact:
        return exact
    partial = list(active.filter(name__icontains=value)[:2])
    return partial[0] if len(partial) == 1 else None


def resource_names() -> list[str]:
    return list(Resource.objects.filter(active=True).order_by("name").values_list("name", flat=True)[:5])


def tool_list() -> QuerySet[Tool]:
    return Tool.objects.order_by("name")


def tool_names(*, limit: int = 200) -> list[str]:
    """Names from the (small) tool registry, for filters that must not scan the invocation ledger."""
    return list(Tool.objects.order_by("name").values_list("name", flat=True)[:limit])


def resource_list() -> QuerySet[Resource]:
    return Resource.objects.order_by("name")


def appointment_list() -> QuerySet[Appointment]:
    return Appointment.objects.order_by("starts_at", "id")
