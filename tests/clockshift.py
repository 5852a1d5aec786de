"""Run the suite with the wall clock moved, so date-dependent tests show themselves.

A test that mixes a fixed date with the real clock passes only while that date lies ahead of
the day it runs; one that computes "tomorrow" outside a frozen clock fails only on a weekend.
``--clock=2027-12-04T12:00:00+00:00`` starts the whole session at that instant (the clock keeps
ticking), so such tests fail today instead of on some later day. Tests that freeze the clock
themselves (``time_machine.travel``) nest inside it and are unaffected.

``-m clock`` selects the tests that can depend on the date: every test in a module that reads
the clock or pins a calendar date, itself or through its conftest files and test helpers (see
``_DATE_WORDS``). It is derived from the source, not declared,
so a new date-dependent test is checked without anyone remembering to mark it.
``scripts/clock-check`` runs that selection at each shifted instant.

Tests that start other processes (servers, workers, browsers) are left out of shifted runs:
those processes keep the real clock, so mixing the two would test nothing but the mix.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        default=None,
        help="ISO instant to move the wall clock to for the whole session (it keeps ticking).",
    )


def pytest_configure(config: pytest.Config) -> None:
    global _traveller
    config.addinivalue_line("markers", "clock: the test can depend on the date (derived from its module)")
    when = config.getoption("--clock")
    if when:
        instant = dt.datetime.fromisoformat(when)
        if instant.tzinfo is None:
            raise pytest.UsageError("--clock needs an offset, e.g. 2027-12-04T12:00:00+00:00")
        _traveller = time_machine.travel(instant, tick=True)
        _traveller.start()


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


@pytest.hookimpl(tryfirst=True)  # before -m reads the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shifted = config.getoption("--clock") is not None
    deselected = []
    kept = []
    for item in items:
        spawns = starts_processes(item)
        if _reads_dates(Path(str(item.fspath))) and not spawns:
            item.add_marker(pytest.mark.clock)
        if shifted and spawns:
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
