"""Marks the tests that start other processes (servers, workers, browsers, manage.py).

Such tests share what a process-local fixture cannot isolate: the broker's Redis db from
``.env``, the machine's CPU for their timing budgets. Under pytest-xdist they all go to one
worker (``xdist_group``, run with ``--dist loadgroup``), one after another, while the rest of
the suite spreads over the other workers. Browser tests that start nothing but Chromium (no
Celery worker, no subprocess: they share no broker) are a group of their own, so they run
beside that one instead of after it. tests/clockshift.py leaves them out of shifted-clock
runs, since the processes they start keep the real clock.

Detected from the source, like the clock marker, so a new such test is grouped without anyone
remembering to mark it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

_STARTS_PROCESSES = re.compile(r"\bsubprocess\b|\bPopen\b|multiprocessing")
_MARKERS = ("e2e", "browser")
_cache: dict[tuple[Path, str], bool] = {}
# Tests that use the official Vapi SDK (tests/sdk.py): its big pydantic models cost 10-40 s
# of CPU to build in each process that first touches them, so these tests share one worker,
# which builds them once, instead of each worker building them again.
_USES_SDK = re.compile(r"^(?:from tests\.sdk import|from vapi\b|import vapi\b)", re.MULTILINE)


def _source_has(path: Path, pattern: re.Pattern[str]) -> bool:
    """Whether the test module's source matches ``pattern`` (each module read once per pattern)."""
    key = (path, pattern.pattern)
    if key not in _cache:
        _cache[key] = bool(pattern.search(path.read_text(encoding="utf-8")))
    return _cache[key]


def uses_sdk(item: pytest.Item) -> bool:
    return _source_has(Path(str(item.fspath)), _USES_SDK)


def _source_starts_processes(path: Path) -> bool:
    return "tests/faults/" in str(path) or _source_has(path, _STARTS_PROCESSES)


def process_group(item: pytest.Item) -> str:
    """``own-services`` for a test that runs its processes on a database and a Redis of its own;
    ``browser`` for a browser test that uses no broker and starts no other process."""
    if item.get_closest_marker("own_services") is not None:
        return "own-services"
    only_chromium = (
        item.get_closest_marker("browser") is not None
        and "worker" not in getattr(item, "fixturenames", ())
        and not _source_starts_processes(Path(str(item.fspath)))
    )
    return "browser" if only_chromium else "processes"


def starts_processes(item: pytest.Item) -> bool:
    if any(item.get_closest_marker(name) for name in _MARKERS) or item.get_closest_marker("processes"):
        return True
    return _source_starts_processes(Path(str(item.fspath)))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "processes: the test starts other processes (derived)")
    config.addinivalue_line(
        "markers", "own_services: the processes it starts use a database and a Redis of their own"
    )
    config.pluginmanager.register(_GroupsFirst(), "voiceops-groups-first")


@pytest.hookimpl(tryfirst=True)  # before -m reads the markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if starts_processes(item):
            item.add_marker(pytest.mark.processes)
            item.add_marker(pytest.mark.xdist_group(process_group(item)))
        elif uses_sdk(item):
            item.add_marker(pytest.mark.xdist_group("vapi-sdk"))


class _GroupsFirst:
    @pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle (this module's hook runs first)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """The groups first, in their shuffled order, then the rest: xdist hands out work in this
        order, so the long groups start at once and the short tests fill the other workers around
        them, instead of a group left for last running alone while the other workers idle."""
        grouped = [item for item in items if item.get_closest_marker("xdist_group")]
        if grouped:
            rest = [item for item in items if not item.get_closest_marker("xdist_group")]
            items[:] = grouped + rest


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fail loudly when xdist stops honouring the group (it once did, silently, with pytest 9.2:
    pytest-xdist#1386): process-starting tests would then share one broker on two workers."""
    if not getattr(session.config.option, "loadgroup", False):  # set on xdist workers only
        return
    ungrouped = [
        item.nodeid
        for item in session.items
        if starts_processes(item) and not item.nodeid.endswith(f"@{process_group(item)}")
    ]
    if ungrouped:
        raise pytest.UsageError(
            f"--dist loadgroup did not group {len(ungrouped)} process-starting tests "
            f"(e.g. {ungrouped[0]}): check the pytest and pytest-xdist pins"
        )
