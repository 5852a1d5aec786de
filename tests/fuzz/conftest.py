"""Fuzzing tallies: every fuzz test records inputs tried and 5xx seen; printed at the end."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

TALLY: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
REPORT = Path(os.environ.get("VOICEOPS_FUZZ_REPORT", "/tmp/voiceops-fuzz-report.json"))


@pytest.fixture
def tally(request):
    """``tally(status)`` after each fuzzed request; counts by test."""
    counts = TALLY[request.node.name.split("[")[0]]

    def record(status: int, **extra: int) -> None:
        counts["inputs"] += 1
        counts["5xx"] += status >= 500
        counts[f"{status // 100}xx_total"] += 1
        for key, value in extra.items():
            counts[key] += value

    return record


def pytest_terminal_summary(terminalreporter):
    if not TALLY:
        return
    totals = {"inputs": 0, "5xx": 0}
    terminalreporter.write_sep("-", "fuzzing tally")
    for name, counts in sorted(TALLY.items()):
        totals["inputs"] += counts["inputs"]
        totals["5xx"] += counts["5xx"]
        terminalreporter.write_line(f"{name}: {dict(counts)}")
    terminalreporter.write_line(f"TOTAL: {totals['inputs']} inputs tried, {totals['5xx']} 5xx seen")
    REPORT.write_text(json.dumps({"tests": TALLY, "total": totals}, indent=2))
