"""The layers of .importlinter hold (also run by `make lint`), and a broken one is caught.

lint-imports runs as its own process: its CLI reconfigures logging (dictConfig), which would
disable this process's loggers for every later test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports() -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own venv's tool, fixed arguments
        [LINT_IMPORTS, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_import_contracts_are_kept() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_service_importing_an_admin_module_breaks_the_layers() -> None:
    """The contract is not vacuous: the same config fails once a lower layer reaches up."""
    offender = ROOT / "tools" / "services" / "zz_contract_probe.py"
    offender.write_text("import tools.admin  # noqa: F401\n")
    try:
        result = lint_imports()
    finally:
        offender.unlink()
    assert result.returncode == 1
    assert "tools.services is not allowed to import tools.admin" in result.stdout
