"""The clock check itself (tests/clockshift.py): its instants, and the copies it runs."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tests.clockshift import instants

UTC = dt.UTC


@time_machine.travel(dt.datetime(2026, 12, 8, 0, 17, tzinfo=UTC), tick=False)
def test_three_instants_for_five_dangers():
    """From "today", as the plugin computes them; the clock is frozen on the day the figures pin."""
    found = instants(dt.datetime.now(UTC))
    assert found == {
        # The first Saturday ending its month after 2027-12-09.
        "year-ahead-saturday-month-end-2359": dt.datetime(2028, 9, 30, 23, 59, tzinfo=UTC),
        # Half an hour before 2027-03-14 02:00 PST and 2027-03-28 02:00 CET.
        "dst-los-angeles": dt.datetime(2027, 3, 14, 9, 30, tzinfo=UTC),
        "dst-berlin": dt.datetime(2027, 3, 28, 0, 30, tzinfo=UTC),
    }
    assert found["year-ahead-saturday-month-end-2359"].strftime("%A") == "Saturday"


@time_machine.travel(dt.datetime(2027, 7, 1, tzinfo=UTC), tick=False)
def test_after_a_summer_day_the_next_change_is_the_autumn_one():
    found = instants(dt.datetime.now(UTC))
    assert found["dst-los-angeles"] == dt.datetime(2027, 11, 7, 8, 30, tzinfo=UTC)
    assert found["dst-berlin"] == dt.datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


@pytest.fixture
def stamped() -> dt.datetime:
    return timezone.now()


def test_a_shifted_copy_moves_the_clock_for_its_fixtures_and_body(request, stamped):
    """Under --clock-check this runs once per instant: a fixture's rows and the body share it."""
    callspec = getattr(request.node, "callspec", None)
    shift = callspec.params.get("_clock_shift") if callspec else None
    now = timezone.now()
    assert dt.timedelta(0) <= now - stamped < dt.timedelta(seconds=30)
    if shift is not None:
        assert dt.timedelta(0) <= stamped - shift < dt.timedelta(seconds=30)
