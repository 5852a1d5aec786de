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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's, whose final DROP DATABASE no longer waits on connections a test left."""
    yield
    from tests.testdb import connections_end

    with django_db_blocker.unblock():
        connections_end()


@pytest.fixture
def vapi_fixture():
    return load_fixture


@pytest.fixture(autouse=True)
def _reset_broker_pause():
    """No test inherits another's failed publish (a process-wide 5 s pause, calls/services/events.py).

    A fault test that broke the broker would otherwise make the next test's webhooks skip their
    publish, and an e2e test, which runs no sweeper, would wait for processing that never comes.
    """
    from calls.services.events import broker_pause_reset

    broker_pause_reset()
    yield
    broker_pause_reset()


@pytest.fixture
def worker():
    """A real Celery worker on a clean broker queue (tests/celery_worker.py)."""
    from tests.celery_worker import running_worker

    with running_worker():
        yield
