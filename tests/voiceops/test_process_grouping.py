"""The guard in tests/processes.py: a process-starting test that xdist did not put in the
``processes`` group stops the run (pytest 9.2 once dropped the group silently)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.processes import process_group, pytest_collection_finish


class _Item:
    def __init__(self, nodeid: str, *, e2e: bool) -> None:
        self.nodeid = nodeid
        self.fspath = __file__
        self._e2e = e2e

    def get_closest_marker(self, name: str) -> object:
        return object() if self._e2e and name == "e2e" else None


def _session(*items: _Item, loadgroup: bool = True) -> SimpleNamespace:
    return SimpleNamespace(config=SimpleNamespace(option=SimpleNamespace(loadgroup=loadgroup)), items=items)


def test_an_ungrouped_process_test_stops_the_run() -> None:
    with pytest.raises(pytest.UsageError, match="did not group 1 process-starting"):
        pytest_collection_finish(_session(_Item("tests/e2e/test_x.py::test_call", e2e=True)))  # type: ignore[arg-type]


def test_grouped_process_tests_and_plain_tests_pass() -> None:
    pytest_collection_finish(  # type: ignore[arg-type]
        _session(
            _Item("tests/e2e/test_x.py::test_call@processes", e2e=True),
            _Item("tests/test_plain.py::test_unit", e2e=False),
        )
    )
    pytest_collection_finish(_session(_Item("t.py::test", e2e=True), loadgroup=False))  # type: ignore[arg-type]


class _BrowserItem(_Item):
    def __init__(self, nodeid: str, *, fixturenames: tuple[str, ...]) -> None:
        super().__init__(nodeid, e2e=False)
        self.fixturenames = fixturenames

    def get_closest_marker(self, name: str) -> object:
        return object() if name == "browser" else None


def test_a_browser_test_joins_the_processes_group_only_when_it_uses_the_broker() -> None:
    alone = _BrowserItem("tests/admin/browser/test_x.py::test_page", fixturenames=("page", "live_server"))
    with_worker = _BrowserItem("tests/admin/browser/test_x.py::test_live", fixturenames=("page", "worker"))
    assert process_group(alone) == "browser"  # type: ignore[arg-type]
    assert process_group(with_worker) == "processes"  # type: ignore[arg-type]
    pytest_collection_finish(  # type: ignore[arg-type]
        _session(_BrowserItem("t.py::test_page@browser", fixturenames=("page",)))
    )
    with pytest.raises(pytest.UsageError, match="did not group 1 process-starting"):
        pytest_collection_finish(  # type: ignore[arg-type]
            _session(_BrowserItem("t.py::test_page@processes", fixturenames=("page",)))
        )


def test_a_test_module_that_imports_the_sdk_shares_the_sdk_worker() -> None:
    from tests.processes import uses_sdk

    tests = Path(__file__).parents[1]
    assert not uses_sdk(SimpleNamespace(fspath=str(tests / "sdk.py")))  # type: ignore[arg-type]
    simulator_sdk = SimpleNamespace(fspath=str(tests / "simulator" / "test_simulator_sdk.py"))
    assert uses_sdk(simulator_sdk)  # type: ignore[arg-type]
