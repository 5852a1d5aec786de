"""Run the date-dependent tests with the wall clock moved, so date bugs show themselves.

A test that mixes a fixed date with the real clock passes only while that date lies ahead of
the day it runs; one that computes "tomorrow" outside a frozen clock fails only on a weekend.

``-m clock`` selects the tests that can depend on the date: every test in a module that reads
the clock or pins a calendar date, itself or through its conftest files and test helpers (see
``_DATE_WORDS``). It is derived from the source, not declared, so a new date-dependent test is
checked without anyone remembering to mark it.

``--clock-check`` (what ``make test`` runs) runs each such test once more at every instant of
``instants()``, in the same session: ``test_x[clock-dst-berlin]`` runs with the wall clock
moved to that instant (and ticking) from the start of its function-scoped fixtures to the end
of its teardown. One session instead of one per instant: the shifted copies fill the workers
beside the rest of the suite (three separate runs cost 3.5 minutes of a 14-minute CI run).
Tests that freeze the clock themselves (``time_machine.travel``) nest inside the shift.
``--clock-check-only=dst-berlin`` runs one instant. ``--clock=2027-12-04T12:00:00+00:00`` moves the
clock for the whole session instead (the clock keeps ticking).

Left out of shifted runs: tests that start other processes (servers, workers, browsers), which
keep the real clock, so mixing the two would test nothing but the mix; and tests marked
``volume`` (a smaller test covers the same path, and its dates).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.processes import starts_processes

# Reading the clock, or pinning a calendar date that the code under test will compare with it.
_DATE_WORDS = re.compile(
    r"time_machine|timezone\.now|timedelta|\.today\(|localtime|\.now\(|date(time)?\(\s*20\d\d",
)
_HELPER_IMPORT = re.compile(r"^(?:from|import) (tests(?:\.\w+)+)", re.MULTILINE)
# Factories stamp rows with the (shifted) clock itself, which is consistent by construction.
_NEUTRAL_HELPERS = {"tests.factories"}
_TESTS_ROOT = Path(__file__).parent
_traveller: time_machine.travel | None = None
# The --clock-check instants of this session, by name (the same on every xdist worker).
_shifts: dict[str, dt.datetime] = {}
_TODAY = pytest.StashKey[dt.datetime]()


def next_dst_change(zone: str, after: dt.datetime) -> dt.datetime:
    """The first instant after ``after`` at which ``zone``'s UTC offset changes (hour precision)."""
    tz = ZoneInfo(zone)
    t = after.replace(minute=0, second=0, microsecond=0)
    offset = t.astimezone(tz).utcoffset()
    for _ in range(24 * 400):
        t += dt.timedelta(hours=1)
        if t.astimezone(tz).utcoffset() != offset:
            return t
    raise RuntimeError(f"no DST change in {zone} within 400 days")


def last_saturday_month_end(after: dt.datetime) -> dt.datetime:
    """The first last day of a month after ``after`` that is a Saturday (one comes every few months)."""
    day = after.replace(hour=23, minute=59, second=0, microsecond=0)
    while not (day.weekday() == 5 and (day + dt.timedelta(days=1)).day == 1):
        day += dt.timedelta(days=1)
    return day


def instants(today: dt.datetime) -> dict[str, dt.datetime]:
    """Three instants for five dangers, computed from ``today`` so the check moves with the calendar.

    The first is a Saturday that ends its month, at 23:59 UTC, at least a year ahead (in Los
    Angeles still Saturday afternoon, in Berlin already Sunday); the DST changes of the two
    zones never fall on one day, so they get one each, half an hour before, so a test crosses it.
    """
    return {
        "year-ahead-saturday-month-end-2359": last_saturday_month_end(today + dt.timedelta(days=366)),
        "dst-los-angeles": next_dst_change("America/Los_Angeles", today) - dt.timedelta(minutes=30),
        "dst-berlin": next_dst_change("Europe/Berlin", today) - dt.timedelta(minutes=30),
    }


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        default=None,
        help="ISO instant to move the wall clock to for the whole session (it keeps ticking).",
    )
    parser.addoption(
        "--clock-check",
        action="store_true",
        help="Run every date-dependent test also at each shifted instant (tests/clockshift.py).",
    )
    parser.addoption(
        "--clock-check-only",
        default=None,
        metavar="NAME[,NAME]",
        help="--clock-check at these instants only: " + ", ".join(instants(dt.datetime.now(dt.UTC))) + ".",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _traveller
    config.addinivalue_line("markers", "clock: the test can depend on the date (derived from its module)")
    when = config.getoption("--clock")
    only = config.getoption("--clock-check-only")
    check = config.getoption("--clock-check") or bool(only)
    if when and check:
        raise pytest.UsageError("--clock moves the whole session, --clock-check copies of tests: use one")
    if when:
        instant = dt.datetime.fromisoformat(when)
        if instant.tzinfo is None:
            raise pytest.UsageError("--clock needs an offset, e.g. 2027-12-04T12:00:00+00:00")
        _traveller = time_machine.travel(instant, tick=True)
        _traveller.start()
    if check:
        # A worker takes the controller's day, so every worker collects the same instants.
        workerinput: dict[str, Any] = getattr(config, "workerinput", {})
        day = workerinput.get("clock_today")
        today = dt.datetime.fromisoformat(day) if day else dt.datetime.now(dt.UTC)
        every = instants(today)
        names = only.split(",") if only else list(every)
        unknown = [name for name in names if name not in every]
        if unknown:
            known = ", ".join(every)
            raise pytest.UsageError(f"--clock-check-only: no instant named {unknown[0]!r}; known: {known}")
        _shifts.clear()
        _shifts.update({name: every[name] for name in names})
        config.stash[_TODAY] = today


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: hand the controller's day to each worker (a run may cross midnight)."""
    today = node.config.stash.get(_TODAY, None)
    if today is not None:
        node.workerinput["clock_today"] = today.isoformat()


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"clock check: {name} at {when.isoformat()} ({when:%A})" for name, when in _shifts.items()]


def pytest_unconfigure(config: pytest.Config) -> None:
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None


_source_cache: dict[Path, bool] = {}


def _sources(path: Path) -> list[Path]:
    """The test module, the conftest files above it and the test helpers it imports."""
    found = [path]
    folder = path.parent
    while _TESTS_ROOT in folder.parents or folder == _TESTS_ROOT:
        if (folder / "conftest.py").exists() and folder != _TESTS_ROOT:
            found.append(folder / "conftest.py")
        folder = folder.parent
    for module in _HELPER_IMPORT.findall(path.read_text(encoding="utf-8")):
        helper = _TESTS_ROOT.parent / (module.replace(".", "/") + ".py")
        if module not in _NEUTRAL_HELPERS and helper.exists():
            found.append(helper)
    return found


def _reads_dates(path: Path) -> bool:
    if path not in _source_cache:
        try:
            texts = [source.read_text(encoding="utf-8") for source in _sources(path)]
        except OSError:
            texts = []
        _source_cache[path] = any(_DATE_WORDS.search(text) for text in texts)
    return _source_cache[path]


def _shiftable(item: pytest.Item) -> bool:
    return _reads_dates(Path(str(item.fspath))) and not starts_processes(item)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Under --clock-check: one copy of a date-dependent test at the real clock, one per instant."""
    definition = metafunc.definition
    if not _shifts or definition.get_closest_marker("volume") or not _shiftable(definition):
        return
    metafunc.parametrize(
        "_clock_shift",
        [None, *_shifts.values()],
        ids=["real-clock", *(f"clock-{name}" for name in _shifts)],
        indirect=True,
    )


@pytest.fixture(autouse=True)
def _clock_shift(request: pytest.FixtureRequest) -> Iterator[None]:
    """The wall clock at the copy's instant, ticking, for its function-scoped fixtures and body.

    Autouse and defined by a plugin, it is set up before the test's other function-scoped
    fixtures, so the rows they make are stamped with the shifted clock too."""
    when: dt.datetime | None = getattr(request, "param", None)
    if when is None:
        yield
        return
    with time_machine.travel(when, tick=True):
        yield


@pytest.hookimpl(tryfirst=True)  # before -m reads the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shifted = config.getoption("--clock") is not None
    deselected = []
    kept = []
    for item in items:
        if _shiftable(item):
            item.add_marker(pytest.mark.clock)
        if shifted and starts_processes(item):
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
