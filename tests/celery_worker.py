"""A real Celery worker on a clean broker queue, for tests that run tasks as production does.

Tests ask for it as the ``worker`` fixture (tests/conftest.py).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from celery.contrib.testing.worker import start_worker

from voiceops.celery import app as celery_app


def purge_broker() -> int:
    """Drop every message waiting in our queues; returns how many there were.

    The e2e tests share the broker's Redis db one after another (tests/processes.py). A
    previous test's live server can publish after its worker stopped (a late webhook, an
    effect scheduled on commit); left in the queue, those tasks would be the next worker's
    first work, against rows that no longer exist and a simulator that is gone, and would
    hold its threads while the next test waits for its own call.
    """
    return celery_app.control.purge()


@contextmanager
def running_worker() -> Iterator[None]:
    """A real worker thread consuming from the real Redis broker; tasks are published, not run eagerly."""
    stale = purge_broker()
    if stale:
        print(f"purged {stale} stale broker message(s) before starting the worker", file=sys.stderr)
    celery_app.conf.task_always_eager = False
    try:
        with start_worker(
            celery_app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10
        ):
            yield
    finally:
        celery_app.conf.task_always_eager = True
        purge_broker()
