"""Appointment services: book, cancel, reschedule and what Postgres guarantees about them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import AppointmentFactory, CustomerFactory, ResourceFactory
from tests.tools.conftest import at
from tools.models import Appointment, AppointmentStatus
from tools.services.appointments import (
    CODE_ALPHABET,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
)
from voiceops.errors import Conflict, DomainError, InvalidState

pytestmark = pytest.mark.django_db


def test_book_a_free_slot(resource, monday):
    customer = CustomerFactory()
    appointment = appointment_book(
        resource=resource, customer=customer, starts_at=at(monday, "10:00"), notes="x"
    )
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.ends_at - appointment.starts_at == dt.timedelta(minutes=30)
    assert len(appointment.confirmation_code) == 6
    assert set(appointment.confirmation_code) <= set(CODE_ALPHABET)


def test_booking_a_taken_slot_is_a_conflict(resource, monday):
    appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(monday, "10:00"))
    with pytest.raises(Conflict) as caught:
        appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(monday, "10:00"))
    assert caught.value.code == "slot_taken"
    assert Appointment.objects.count() == 1


def test_same_instant_in_another_zone_is_the_same_slot(resource, monday):
    appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(monday, "10:00"))
    with pytest.raises(Conflict):
        appointment_book(
            resource=resource,
            customer=CustomerFactory(),
            starts_at=at(monday, "07:00", "America/Los_Angeles"),
        )


@pytest.mark.parametrize(
    "hhmm,code",
    [("08:30", "outside_hours"), ("17:00", "outside_hours"), ("10:15", "outside_hours"), ("16:30", None)],
)
def test_only_slot_starts_within_working_hours(resource, monday, hhmm, code):
    call = lambda: appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(monday, hhmm))  # noqa: E731
    if code is None:
        assert call().pk
    else:
        with pytest.raises(DomainError) as caught:
            call()
        assert caught.value.code == code


def test_weekend_is_outside_working_hours(resource, monday):
    with pytest.raises(DomainError) as caught:
        appointment_book(
            resource=resource,
            customer=CustomerFactory(),
            starts_at=at(monday - dt.timedelta(days=1), "10:00"),
        )
    assert caught.value.code == "outside_hours"


def test_past_slot_is_refused(resource):
    last_monday = timezone.now().date() - dt.timedelta(days=7 + timezone.now().weekday())
    with pytest.raises(DomainError) as caught:
        appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(last_monday, "10:00"))
    assert caught.value.code == "past"


def test_naive_time_and_inactive_resource_are_refused(monday):
    resource = ResourceFactory(active=False)
    with pytest.raises(DomainError):
        appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(monday, "10:00"))
    with pytest.raises(DomainError):
        appointment_book(
            resource=ResourceFactory(),
            customer=CustomerFactory(),
            starts_at=dt.datetime.combine(monday, dt.time(10)),
        )


def test_cancel_frees_the_slot_and_is_idempotent(resource, monday):
    appointment = appointment_book(
        resource=resource, customer=CustomerFactory(), starts_at=at(monday, "11:00")
    )
    assert appointment_cancel(appointment=appointment).status == AppointmentStatus.CANCELLED
    assert appointment_cancel(appointment=appointment).status == AppointmentStatus.CANCELLED
    again = appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(monday, "11:00"))
    assert again.pk != appointment.pk


def test_completed_appointment_cannot_be_cancelled(resource):
    appointment = AppointmentFactory(resource=resource, status=AppointmentStatus.COMPLETED)
    with pytest.raises(InvalidState):
        appointment_cancel(appointment=appointment)


def test_reschedule_moves_and_frees_the_old_slot(resource, monday):
    customer = CustomerFactory()
    old = appointment_book(
        resource=resource, customer=customer, starts_at=at(monday, "09:00"), notes="cleaning"
    )
    new = appointment_reschedule(appointment=old, starts_at=at(monday, "14:00"))
    old.refresh_from_db()
    assert old.status == AppointmentStatus.RESCHEDULED
    assert (new.status, new.rescheduled_from_id, new.customer_id, new.notes) == (
        AppointmentStatus.BOOKED,
        old.pk,
        customer.pk,
        "cleaning",
    )
    assert new.confirmation_code != old.confirmation_code
    assert appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(monday, "09:00")).pk


def test_reschedule_into_an_overlapping_neighbour_slot_of_its_own_resource(monday):
    resource = ResourceFactory(slot_minutes=60, working_hours={"mon": [["09:00", "12:00"]]})
    old = appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(monday, "09:00"))
    moved = appointment_reschedule(appointment=old, starts_at=at(monday, "10:00"))
    assert moved.starts_at == at(monday, "10:00")


def test_reschedule_to_a_taken_slot_keeps_the_old_one(resource, monday):
    old = appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(monday, "09:00"))
    appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(monday, "10:00"))
    with pytest.raises(Conflict):
        appointment_reschedule(appointment=old, starts_at=at(monday, "10:00"))
    old.refresh_from_db()
    assert old.status == AppointmentStatus.BOOKED
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 2


@pytest.mark.parametrize("status", [AppointmentStatus.CANCELLED, AppointmentStatus.RESCHEDULED])
def test_only_booked_appointments_move(resource, monday, status):
    appointment = AppointmentFactory(resource=resource, status=status)
    with pytest.raises(InvalidState):
        appointment_reschedule(appointment=appointment, starts_at=at(monday, "10:00"))


def test_reschedule_to_the_same_time_or_outside_hours_is_refused(resource, monday):
    old = appointment_book(resource=resource, customer=CustomerFactory(), starts_at=at(monday, "09:00"))
    with pytest.raises(DomainError):
        appointment_reschedule(appointment=old, starts_at=at(monday, "09:00"))
    with pytest.raises(DomainError):
        appointment_reschedule(appointment=old, starts_at=at(monday, "20:00"))
    old.refresh_from_db()
    assert old.status == AppointmentStatus.BOOKED
