"""Racing callers on real Postgres: the exclusion constraint lets exactly one booking per slot win.

These tests drive ``tool_calls_answer`` from threads, each with its own database
connection, as concurrent webhook requests would. The same races through the real
endpoint (and the 1,000-attempts run) are in ``test_webhook_endpoint.py``.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.tools.conftest import tool_call, tool_message
from tests.tools.contract import assert_tool_answer_shape
from tools.dispatcher import tool_calls_answer
from tools.models import Appointment, AppointmentStatus

pytestmark = pytest.mark.django_db(transaction=True)


def _book(number: str, day, hhmm: str) -> dict:
    message = tool_message(
        tool_call("book_appointment", {"date": day.isoformat(), "time": hhmm}), number=number
    )
    body = tool_calls_answer(message=message, event_id=None)
    assert_tool_answer_shape(body, message)
    return body["results"][0]


def run_in_threads(jobs: list, worker, threads: int) -> list:
    """Run ``worker(job)`` for every job on ``threads`` threads, each with its own DB connection."""
    results: list = [None] * len(jobs)
    lock = threading.Lock()
    position = iter(range(len(jobs)))
    barrier = threading.Barrier(threads)

    def loop():
        try:
            barrier.wait()
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    return
                results[index] = worker(jobs[index])
        finally:
            connection.close()

    pool = [threading.Thread(target=loop) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=300)
    return results


def overlapping_pairs() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM tools_appointment a JOIN tools_appointment b
              ON a.resource_id = b.resource_id AND a.id < b.id
             AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
             WHERE a.status IN ('booked', 'completed') AND b.status IN ('booked', 'completed')
            """
        )
        return cursor.fetchone()[0]


def test_twenty_callers_racing_for_one_slot(resource, monday):
    results = run_in_threads(
        list(range(20)), lambda i: _book(f"+1415555{1000 + i:04d}", monday, "10:00"), threads=20
    )

    winners = [r for r in results if r.get("result", "").startswith("Booked with Dr. Patel")]
    refusals = [r for r in results if r.get("result", "").startswith("Sorry,")]
    assert len(winners) == 1, results
    assert len(refusals) == 19, results
    for refusal in refusals:
        assert "at 10 AM was just taken. The next free times with Dr. Patel are" in refusal["result"]
        assert "10:30 AM" in refusal["result"]
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1
    assert overlapping_pairs() == 0
