"""Racing callers on real Postgres: the exclusion constraint lets exactly one booking per slot win.

These tests drive ``tool_calls_answer`` from threads, each with its own database
connection, as concurrent webhook requests would. The same races through the real
endpoint (and the 1,000-attempts run) are in ``test_webhook_endpoint.py``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from calls.models import Customer
from tests.admin.conftest import client_for, make_user
from tests.factories import CustomerFactory
from tests.tools.conftest import at, tool_call, tool_message
from tests.tools.contract import assert_tool_answer_shape
from tools.dispatcher import tool_calls_answer
from tools.models import Appointment, AppointmentStatus
from tools.services.appointments import appointment_book
from voiceops.errors import Conflict

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


def _sessions_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _book_as_caller(customer: Customer, resource, starts_at: dt.datetime) -> str:
    try:
        with transaction.atomic():
            appointment_book(resource=resource, customer=customer, starts_at=starts_at)
    except Conflict:
        return "refused"
    return "booked"


def _book_in_admin(customer: Customer, resource, starts_at: dt.datetime) -> str:
    """The add form, posted by a superuser: a lost race is redirected back to the form."""
    client = client_for(make_user(f"admin-{customer.pk}", superuser=True))
    ends_at = starts_at + dt.timedelta(minutes=resource.slot_minutes)
    local_start, local_end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    add_url = reverse("admin:tools_appointment_add")
    form = {
        "resource": resource.pk,
        "customer": customer.pk,
        "starts_at_0": local_start.strftime("%Y-%m-%d"),
        "starts_at_1": local_start.strftime("%H:%M:%S"),
        "ends_at_0": local_end.strftime("%Y-%m-%d"),
        "ends_at_1": local_end.strftime("%H:%M:%S"),
        "status": "booked",
        "confirmation_code": f"ADMIN{customer.pk}",
        "notes": "",
    }
    response = client.post(add_url, form)
    if response.status_code == 302:
        return "refused" if response["Location"] == add_url else "booked"
    return f"HTTP {response.status_code}"


@pytest.mark.parametrize("booker", [_book_as_caller, _book_in_admin], ids=["callers", "admins"])
def test_two_bookers_waiting_on_a_booking_that_rolls_back_do_not_deadlock(resource, monday, booker):
    """The race that deadlocked: two bookers wait on a caller's uncommitted booking of their
    slot, and it rolls back (its handler failed after the INSERT). Each then found only the
    other's uncommitted booking and waited for it; now they queue on the resource."""
    customers = CustomerFactory.create_batch(3)
    starts_at = at(monday, "10:00")
    holding, release = threading.Event(), threading.Event()
    outcomes: dict[int, str] = {}

    def book_then_roll_back() -> None:
        try:
            with transaction.atomic():
                appointment_book(resource=resource, customer=customers[0], starts_at=starts_at)
                holding.set()
                release.wait(30)
                transaction.set_rollback(True)
        finally:
            connection.close()

    def book(index: int, booker: Callable[[Customer, Any, dt.datetime], str]) -> None:
        holding.wait(30)
        try:
            outcomes[index] = booker(customers[index], resource, starts_at)
        except Exception as error:  # noqa: BLE001 - the deadlock shows up here as its error
            outcomes[index] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=book_then_roll_back)]
    threads += [threading.Thread(target=book, args=(index, booker)) for index in (1, 2)]
    for thread in threads:
        thread.start()
    for _ in range(200):
        if _sessions_waiting_on_a_lock() >= 2:
            break
        time.sleep(0.05)
    assert _sessions_waiting_on_a_lock() == 2
    release.set()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes.values()) == ["booked", "refused"], outcomes
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1
