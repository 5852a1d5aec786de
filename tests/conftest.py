"""Shared fixtures: Vapi fixture loading by name."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "vapi"


def load_fixture(name: str) -> dict[str, Any]:
    """A Vapi fixture by file name, e.g. ``load_fixture("tool-calls.json")``; a fresh copy each time."""
    with open(FIXTURES / name, encoding="utf-8") as handle:
        return copy.deepcopy(json.load(handle))


@pytest.fixture
def vapi_fixture():
    return load_fixture
