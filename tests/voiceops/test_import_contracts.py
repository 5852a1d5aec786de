"""The layers of .importlinter hold (also run by `make lint`), and a broken one is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))


def test_the_import_contracts_are_kept(at_root: None) -> None:
    assert lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True, no_logo=True) == 0


def test_a_service_importing_an_admin_module_breaks_the_layers(at_root: None) -> None:
    """The contract is not vacuous: the same config fails once a lower layer reaches up."""
    offender = ROOT / "tools" / "services" / "zz_contract_probe.py"
    offender.write_text("import tools.admin  # noqa: F401\n")
    try:
        code = lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True, no_logo=True)
    finally:
        offender.unlink()
    assert code == 1
