"""Slots from working hours: zones, DST, bookings, the past."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from tests.factories import AppointmentFactory, ResourceFactory
from tests.tools.conftest import at, next_weekday
from tools.models import AppointmentStatus
from tools.selectors import (
    resource_find,
    resource_free_slots_on_date,
    resource_next_free_slots,
    resource_slots_on,
)

pytestmark = pytest.mark.django_db
NY = zoneinfo.ZoneInfo("America/New_York")


def test_slots_follow_working_hours_and_slot_length(monday):
    resource = ResourceFactory(
        slot_minutes=45, working_hours={"mon": [["09:00", "11:00"], ["13:00", "14:00"]]}
    )
    assert resource_slots_on(resource=resource, day=monday) == [
        at(monday, "09:00"),
        at(monday, "09:45"),
        at(monday, "13:00"),
    ]
    assert resource_slots_on(resource=resource, day=monday + dt.timedelta(days=1)) == []


def test_malformed_working_hours_are_skipped(monday):
    resource = ResourceFactory(working_hours={"mon": [["9", "x"], ["10:00"], ["10:00", "11:00"]]})
    assert resource_slots_on(resource=resource, day=monday) == [at(monday, "10:00"), at(monday, "10:30")]


def test_dst_change_keeps_local_opening_hours():
    resource = ResourceFactory(working_hours={"sun": [["09:00", "10:00"]]})
    # 2030-03-10 is the US spring-forward Sunday; 2030-11-03 the fall-back one.
    spring = resource_slots_on(resource=resource, day=dt.date(2030, 3, 10))
    fall = resource_slots_on(resource=resource, day=dt.date(2030, 11, 3))
    assert [s.astimezone(NY).hour for s in spring] == [9, 9]
    assert spring[0].astimezone(dt.UTC).hour == 13  # EDT
    assert fall[0].astimezone(dt.UTC).hour == 14  # EST


def test_free_slots_skip_booked_but_not_cancelled(resource, monday):
    AppointmentFactory(resource=resource, starts_at=at(monday, "09:00"), ends_at=at(monday, "09:30"))
    AppointmentFactory(
        resource=resource,
        starts_at=at(monday, "09:30"),
        ends_at=at(monday, "10:00"),
        status=AppointmentStatus.CANCELLED,
    )
    slots = resource_free_slots_on_date(resource=resource, day=monday, tz=NY)
    assert slots[0] == at(monday, "09:30")
    assert len(slots) == 15


def test_free_slots_on_a_date_count_days_in_the_listeners_zone(resource, monday):
    # 09:00-17:00 New York is 23:00-07:00 next day in Tokyo: a Tokyo "Tuesday" holds most of Monday NY.
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    tuesday_tokyo = resource_free_slots_on_date(
        resource=resource, day=monday + dt.timedelta(days=1), tz=tokyo
    )
    assert tuesday_tokyo[0] == dt.datetime.combine(monday + dt.timedelta(days=1), dt.time(0), tzinfo=tokyo)
    assert all(s.astimezone(tokyo).date() == monday + dt.timedelta(days=1) for s in tuesday_tokyo)


def test_no_past_slots_today():
    resource = ResourceFactory(
        time_zone="UTC",
        slot_minutes=5,
        working_hours={k: [["00:00", "24:00"]] for k in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    # Noon of today, frozen: from 23:55 UTC on, today has no slot left at all (found by the
    # month-end-2359 clock check), which is right but is not what this test is about.
    noon = timezone.now().replace(hour=12, minute=2, second=30, microsecond=0)
    with time_machine.travel(noon, tick=False):
        now = timezone.now()
        slots = resource_free_slots_on_date(resource=resource, day=now.date(), tz=dt.UTC)
        assert slots and all(s > now for s in slots)
        nxt = resource_next_free_slots(resource=resource, count=3)
    assert len(nxt) == 3 and nxt[0] > now and nxt[0] - now <= dt.timedelta(minutes=5)


def test_next_free_slots_skip_a_fully_booked_week(resource):
    start = next_weekday(0, min_days=7)
    for offset in range(5):
        day = start + dt.timedelta(days=offset)
        for slot in resource_slots_on(resource=resource, day=day):
            AppointmentFactory(resource=resource, starts_at=slot, ends_at=slot + dt.timedelta(minutes=30))
    after = at(start, "00:00")
    slots = resource_next_free_slots(resource=resource, count=2, after=after)
    assert slots == [at(start + dt.timedelta(days=7), "09:00"), at(start + dt.timedelta(days=7), "09:30")]


def test_resource_with_no_hours_has_no_next_slots():
    assert resource_next_free_slots(resource=ResourceFactory(working_hours={}), count=3) == []


def test_resource_find_by_name_id_partial_and_single():
    patel = ResourceFactory(name="Dr. Patel")
    assert resource_find(text=None) == patel  # the only one
    kim = ResourceFactory(name="Dr. Kim")
    assert resource_find(text=None) is None
    assert resource_find(text="dr. kim") == kim
    assert resource_find(text="patel") == patel
    assert resource_find(text=str(kim.pk)) == kim
    assert resource_find(text="Dr.") is None  # ambiguous
    assert resource_find(text="Zhivago") is None


def test_a_day_open_until_midnight_has_its_last_slot(monday):
    resource = ResourceFactory(slot_minutes=5, working_hours={"mon": [["23:30", "24:00"]]})
    slots = resource_slots_on(resource=resource, day=monday)
    assert len(slots) == 6 and slots[-1] == at(monday, "23:55")
