"""Tool calls through POST /webhooks/vapi/ on a live server: contract shape and racing callers."""

from __future__ import annotations

import http.client
import json
import threading
from urllib.parse import urlparse

import pytest

from tests.conftest import load_fixture
from tests.tools.conftest import tool_call, tool_message
from tests.tools.contract import assert_tool_answer_shape
from tests.tools.test_concurrency import overlapping_pairs
from tools.models import Appointment, AppointmentStatus, ToolInvocation

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "whsec-current-7a1d"


def post(live_server, message: dict) -> tuple[int, dict]:
    url = urlparse(live_server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        conn.request(
            "POST",
            "/webhooks/vapi/",
            body=json.dumps({"message": message}).encode(),
            headers={"Content-Type": "application/json", "X-Vapi-Secret": SECRET},
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def test_the_contract_fixture_through_the_endpoint(live_server):
    message = load_fixture("tool-calls.json")["message"]
    status, body = post(live_server, message)
    assert status == 200
    assert_tool_answer_shape(body, message)


def test_bad_tool_input_through_the_endpoint_is_still_200(live_server, resource):
    message = tool_message(
        tool_call("book_appointment", "{not json"),
        tool_call("book_appointment", {"date": "tomorrow", "time": "10"}),
        tool_call("nope_tool", {}),
        {"id": "x-no-function"},
    )
    status, body = post(live_server, message)
    assert status == 200
    assert_tool_answer_shape(body, message)
    assert all("error" in r for r in body["results"])


def test_a_redelivered_tool_call_is_answered_identically_and_books_once(live_server, resource, monday):
    message = tool_message(tool_call("book_appointment", {"date": monday.isoformat(), "time": "09:30"}))
    first = post(live_server, message)
    second = post(live_server, message)
    assert first == second and first[0] == 200
    assert first[1]["results"][0]["result"].startswith("Booked with Dr. Patel")
    assert Appointment.objects.count() == 1
    assert ToolInvocation.objects.count() == 1


def test_twenty_callers_racing_for_one_slot_through_the_endpoint(live_server, resource, monday):
    barrier = threading.Barrier(20)
    answers: list = [None] * 20

    def caller(i: int) -> None:
        message = tool_message(
            tool_call(
                "book_appointment", {"date": monday.isoformat(), "time": "10:00", "name": f"Caller {i}"}
            ),
            number=f"+1415555{3000 + i:04d}",
        )
        barrier.wait()
        answers[i] = (message, post(live_server, message))

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    texts = []
    for message, (status, body) in answers:
        assert status == 200
        assert_tool_answer_shape(body, message)
        texts.append(body["results"][0]["result"])
    winners = [t for t in texts if t.startswith("Booked with Dr. Patel")]
    refusals = [t for t in texts if t.startswith("Sorry,") and "was just taken" in t]
    assert len(winners) == 1, texts
    assert len(refusals) == 19, texts
    assert all("The next free times with Dr. Patel are" in t for t in refusals)
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1
    assert overlapping_pairs() == 0


@pytest.mark.volume
def test_a_thousand_attempts_on_fifty_slots_through_the_endpoint(live_server, monday):
    import random

    from tests.factories import ResourceFactory
    from tests.tools.conftest import at
    from tests.tools.test_concurrency import run_in_threads

    resource = ResourceFactory(
        name="Room 50",
        time_zone="America/New_York",
        slot_minutes=10,
        working_hours={"mon": [["09:00", "17:20"]]},
    )
    slots = [f"{9 + (i * 10) // 60:02d}:{(i * 10) % 60:02d}" for i in range(50)]
    rng = random.Random(1000)
    attempts = [(f"+1415555{4000 + n % 40:04d}", rng.choice(slots)) for n in range(950)] + [
        (f"+1415555{4100 + i:04d}", slot) for i, slot in enumerate(slots)
    ]
    rng.shuffle(attempts)

    def attempt(job):
        number, hhmm = job
        message = tool_message(
            tool_call("book_appointment", {"date": monday.isoformat(), "time": hhmm}), number=number
        )
        status, body = post(live_server, message)
        assert status == 200
        assert_tool_answer_shape(body, message)
        return body["results"][0]

    results = run_in_threads(attempts, attempt, threads=16)
    texts = [r["result"] for r in results]
    assert sum(t.startswith("Booked with Room 50") for t in texts) == 50
    # The rest are refused, or told (same caller, same slot, another call) they already have it.
    already = sum(t.startswith("You already have") for t in texts)
    assert sum(t.startswith("Sorry,") for t in texts) + already == 950
    booked = Appointment.objects.filter(resource=resource, status=AppointmentStatus.BOOKED)
    assert sorted(a.starts_at for a in booked) == [at(monday, s) for s in slots]
    assert overlapping_pairs() == 0


def test_many_calls_racing_with_the_same_call_0_each_hear_their_own_customer(live_server):
    """Providers reuse ``call_0``: twenty live calls send it at once, each for its own caller."""
    from tests.factories import CustomerFactory
    from tests.tools.test_concurrency import run_in_threads

    callers = [(f"+1415555{6000 + i:04d}", f"Caller Number{i:02d}") for i in range(20)]
    for number, name in callers:
        CustomerFactory(number=number, name=name)

    def attempt(job):
        number, _ = job
        message = tool_message(tool_call("get_customer_info", {}, call_id="call_0"), number=number)
        status, body = post(live_server, message)
        assert status == 200
        assert_tool_answer_shape(body, message)
        return body["results"][0]["result"]

    heard = run_in_threads(callers, attempt, threads=8)
    assert heard == [f"This is {name}. No upcoming appointments." for _, name in callers]
    assert ToolInvocation.objects.filter(tool_call_id="call_0").count() == 20
