"""Appointments (book/cancel/reschedule, 409 on a taken slot), assistant push, number bind, replay."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest
import responses
from django.utils import timezone

from assistants.models import PushState
from tests.api.conftest import assert_error
from tests.factories import (
    AppointmentFactory,
    AssistantFactory,
    CustomerFactory,
    PhoneNumberFactory,
    ResourceFactory,
    WebhookEventFactory,
)
from tools.models import Appointment
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db
NY = zoneinfo.ZoneInfo("America/New_York")


def _next_weekday_at(hour: int, days_ahead: int = 2) -> dt.datetime:
    day = timezone.now().astimezone(NY).date() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=NY)


@pytest.fixture
def booker(client_with):
    return client_with(Scope.READ, Scope.APPOINTMENTS_WRITE)


def test_book_then_taken_slot_is_409(booker):
    resource = ResourceFactory(time_zone="America/New_York")
    starts = _next_weekday_at(10).isoformat()
    body = {
        "resource": resource.pk,
        "customer": CustomerFactory().pk,
        "starts_at": starts,
        "notes": "Cleaning",
    }
    response = booker.post("/api/v1/appointments/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "booked" and response.json()["confirmation_code"]
    other = {**body, "customer": CustomerFactory().pk}
    assert_error(booker.post("/api/v1/appointments/", other, format="json"), 409, "slot_taken")
    assert Appointment.objects.count() == 1


def test_book_outside_hours_is_422_and_bad_input_400(booker):
    resource = ResourceFactory(time_zone="America/New_York")
    body = {
        "resource": resource.pk,
        "customer": CustomerFactory().pk,
        "starts_at": _next_weekday_at(3).isoformat(),
    }
    assert_error(booker.post("/api/v1/appointments/", body, format="json"), 422, "outside_hours")
    error = assert_error(booker.post("/api/v1/appointments/", {"starts_at": "soon"}, format="json"), 400)
    assert {"resource", "customer", "starts_at"} <= set(error["fields"])


def test_cancel_and_reschedule(booker):
    resource = ResourceFactory(time_zone="America/New_York")
    start = _next_weekday_at(11)
    appointment = AppointmentFactory(
        resource=resource, starts_at=start, ends_at=start + dt.timedelta(minutes=30)
    )
    moved = booker.post(
        f"/api/v1/appointments/{appointment.pk}/reschedule/", {"starts_at": _next_weekday_at(14).isoformat()},
        format="json",
    )  # fmt: skip
    assert moved.status_code == 201, moved.json()
    assert moved.json()["rescheduled_from"] == appointment.pk
    assert Appointment.objects.get(pk=appointment.pk).status == "rescheduled"
    cancelled = booker.post(f"/api/v1/appointments/{moved.json()['id']}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = booker.post(f"/api/v1/appointments/{moved.json()['id']}/cancel/")  # idempotent
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_push_marks_pending(client_with, django_capture_on_commit_callbacks):
    client = client_with(Scope.ASSISTANTS_WRITE)
    assistant = AssistantFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/api/v1/assistants/{assistant.pk}/push/")
    assert response.status_code == 202, response.json()
    assert response.json()["push_state"] == PushState.PENDING
    assert len(callbacks) == 1  # the push task is enqueued after commit


def test_push_of_invalid_config_is_refused_with_fields(client_with):
    client = client_with(Scope.ASSISTANTS_WRITE)
    assistant = AssistantFactory(model_provider="nonsense-llm")
    error = assert_error(client.post(f"/api/v1/assistants/{assistant.pk}/push/"), 422)
    assert "model_provider" in error["fields"]


def test_bind_number_to_an_assistant(client_with):
    client = client_with(Scope.ASSISTANTS_WRITE)
    assistant = AssistantFactory(vapi_id=str(uuid.uuid4()))
    number = PhoneNumberFactory(assistant=None)
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.PATCH, f"http://vapi.test/phone-number/{number.vapi_id}", json={"id": number.vapi_id}
        )
        response = client.post(
            f"/api/v1/phone-numbers/{number.pk}/bind/", {"assistant": assistant.pk}, format="json"
        )
    assert response.status_code == 200, response.json()
    assert response.json()["assistant"] == assistant.pk


def test_bind_to_unpushed_assistant_is_409(client_with):
    client = client_with(Scope.ASSISTANTS_WRITE)
    number = PhoneNumberFactory()
    response = client.post(
        f"/api/v1/phone-numbers/{number.pk}/bind/", {"assistant": AssistantFactory().pk}, format="json"
    )
    assert_error(response, 409, "invalid_state")
    assert (
        "assistant"
        in assert_error(client.post(f"/api/v1/phone-numbers/{number.pk}/bind/", {}, format="json"), 400)[
            "fields"
        ]
    )


def test_replay_needs_admin_and_reprocesses(client_with, admin_client):
    event = WebhookEventFactory(state="failed", error="boom")
    assert_error(client_with(Scope.READ).post(f"/api/v1/webhook-events/{event.pk}/replay/"), 403)
    response = admin_client.post(f"/api/v1/webhook-events/{event.pk}/replay/")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] != "failed" or response.json()["error"] != "boom"
