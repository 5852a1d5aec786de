"""A Celery task keeps its database connection for the next task (voiceops.celery).

Celery's Django fixup closed every connection around every task, so each task opened a new
Postgres backend. These drive the fixup's own handler and ours in the order a worker does.
"""

from __future__ import annotations

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import OperationalError, connection

from calls.campaigns.tasks import campaign_dispatch
from voiceops.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _around_a_task() -> None:
    """What a worker runs before and after each task: the fixup's handler, then ours."""
    fixup = DjangoWorkerFixup(app)
    for signal in (task_prerun, task_postrun):
        fixup.close_database()
        signal.send(sender=campaign_dispatch, task_id="t-1", task=campaign_dispatch, args=(), kwargs={})


def test_the_next_task_uses_the_same_postgres_backend():
    first = _backend_pid()
    _around_a_task()
    assert _backend_pid() == first


def test_a_connection_older_than_conn_max_age_is_replaced():
    first = _backend_pid()
    connection.close_at = 0  # past CONN_MAX_AGE
    _around_a_task()
    assert _backend_pid() != first


def test_a_broken_connection_is_replaced_after_the_task_that_found_it():
    first = _backend_pid()
    with connection._nodb_cursor() as other:  # a second session, like a Postgres restart would be
        other.execute("SELECT pg_terminate_backend(%s)", [first])
    with pytest.raises(OperationalError):
        _backend_pid()
    _around_a_task()
    assert _backend_pid() != first
