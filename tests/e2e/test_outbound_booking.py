"""End to end: simulator + voiceops web (live server) + a Celery worker on real Redis.

One outbound call is placed through the outbound service; the simulator dials it, plays
"books tomorrow at 10:00" against ``POST /webhooks/vapi/`` (signed with the credential the
assistant push created), voiceops answers check_availability and book_appointment while
the caller waits, and the worker (eager off) processes the stored events. Afterwards the
Call, its transcript, the ToolInvocations and the Appointment are in Postgres.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from assistants.models import Assistant, PhoneNumber
from assistants.services import assistant_push
from calls.campaigns.services.outbound import call_place_outbound
from calls.models import Call
from tools.models import Appointment, Resource, Tool, ToolInvocation
from voiceops.simulator.runner import Simulator, running_simulator
from voiceops.simulator.store import phone_number_id_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SECRET = "e2e-webhook-secret-91c2"
NUMBER = "+12125550100"
EVERY_DAY = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def simulator(live_server: Any, settings: Any) -> Iterator[Simulator]:
    settings.PUBLIC_BASE_URL = live_server.url
    settings.VAPI_WEBHOOK_SECRET = [SECRET]
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with running_simulator(
        time_factor=60, scenario="books-appointment", seed=1, phone_numbers=[NUMBER]
    ) as sim:
        settings.VAPI_BASE_URL = sim.base_url
        yield sim


def wait_for(predicate: Any, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_outbound_call_books_an_appointment(simulator: Simulator, worker: None, settings: Any) -> None:
    call_command("tools_sync", verbosity=0)
    resource = Resource.objects.create(name="Dr. Rivera", time_zone="UTC", working_hours=EVERY_DAY)
    assistant = Assistant.objects.create(
        name="E2E front desk",
        first_message="Hi {{customerName}}, this is the clinic.",
        system_prompt="You book appointments.",
        end_call_message="Goodbye!",
    )
    assistant.tools.set(Tool.objects.filter(name__in=["check_availability", "book_appointment"]))
    phone = PhoneNumber.objects.create(number=NUMBER, vapi_id=phone_number_id_for(NUMBER), provider="vapi")
    assistant_push(assistant=assistant)
    assistant.refresh_from_db()
    pushed = simulator.store.get("assistants", assistant.vapi_id)
    assert pushed["server"]["url"] == f"{settings.PUBLIC_BASE_URL}/webhooks/vapi/"
    assert pushed["server"]["credentialId"] in simulator.store.credentials

    # "Tomorrow" is the simulator's, computed while the call plays; a run that crosses midnight
    # UTC may see either day, so both ends of the run are accepted (and nothing else).
    tomorrows = {(dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date()}
    call = call_place_outbound(
        assistant=assistant,
        customer_number="+14155550123",
        phone_number=phone,
        customer_name="Dana Whitfield",
        variables={"customerName": "Dana", "resource": resource.name},
    )
    assert simulator.wait_for_calls(timeout=90), "the simulator finished playing the call"
    wait_for(
        lambda: Call.objects.filter(pk=call.pk, has_final_report=True, status="ended").exists(),
        seconds=60,
        what="the worker to apply the end-of-call report",
    )

    call.refresh_from_db()
    assert call.ended_reason == "customer-ended-call" and call.outcome == "completed"
    assert call.started_at and call.ended_at and call.duration_seconds > 0
    assert call.summary and call.recording_url.endswith("-mono.wav")
    turns = list(call.turns.order_by("position").values_list("role", "text"))
    assert ("assistant", "Hi Dana, this is the clinic.") in turns
    assert any(role == "user" and "book an appointment for tomorrow at 10:00" in text for role, text in turns)

    invocations = {i.name: i for i in ToolInvocation.objects.filter(call=call)}
    assert set(invocations) == {"check_availability", "book_appointment"}
    booking = invocations["book_appointment"]
    assert booking.state == "succeeded" and not booking.error
    tomorrows.add((dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date())
    tomorrow = dt.date.fromisoformat(booking.arguments["date"])
    assert tomorrow in tomorrows and booking.arguments["time"].startswith("10:00")

    appointment = Appointment.objects.get()
    assert appointment.call == call and appointment.resource == resource
    assert appointment.customer.number == "+14155550123"
    assert appointment.starts_at == dt.datetime.combine(tomorrow, dt.time(10, 0), tzinfo=dt.UTC)
    assert appointment.confirmation_code in booking.result.replace(" ", "").replace("-", "")

    # What voiceops answered is what the caller heard: the simulator put it into the conversation.
    played = simulator.players[call.vapi_id].tool_calls
    assert [t["name"] for t in played] == ["check_availability", "book_appointment"]
    assert played[1]["result"] == booking.result
