"""check_availability, book_appointment, cancel_appointment, reschedule_appointment as a caller hears them."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest

from calls.models import Customer
from tests.factories import AppointmentFactory, CallFactory, CustomerFactory, ResourceFactory
from tests.tools.conftest import CALLER, at
from tests.tools.helpers import ask
from tools.models import Appointment, AppointmentStatus
from tools.speech import spoken_time

pytestmark = pytest.mark.django_db


def code_in(text: str) -> str:
    match = re.search(r"code is ((?:[A-Z0-9] ){5}[A-Z0-9])", text)
    assert match, text
    return match.group(1).replace(" ", "")


# --- check_availability ---------------------------------------------------------------------


def test_availability_on_a_date(resource, monday):
    AppointmentFactory(resource=resource, starts_at=at(monday, "09:00"), ends_at=at(monday, "09:30"))
    result = ask("check_availability", {"date": monday.isoformat()})["result"]
    assert result.startswith(f"Dr. Patel is free on {monday:%A}, {monday:%B} {monday.day} at 9:30 AM, 10 AM")
    assert "and 7 more later that day (New York time)." in result


def test_availability_next_slots_without_a_date(resource):
    result = ask("check_availability", {"count": 2})["result"]
    assert result.startswith("The next free times with Dr. Patel are ")
    assert result.count(" AM") + result.count(" PM") == 2


def test_availability_in_the_callers_time_zone(resource, monday):
    CustomerFactory(number=CALLER, time_zone="America/Los_Angeles")
    result = ask("check_availability", {"date": monday.isoformat()})["result"]
    assert "at 6 AM, 6:30 AM" in result and "(Los Angeles time)" in result


def test_availability_with_a_spoken_time_zone_override(resource, monday):
    result = ask("check_availability", {"date": monday.isoformat(), "time_zone": "Europe/Berlin"})["result"]
    # 09:00 New York in Berlin: 3 PM most of the year, 2 PM in the weeks the two differ on DST.
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    first_two = f"{spoken_time(at(monday, '09:00'), berlin)}, {spoken_time(at(monday, '09:30'), berlin)}"
    assert f"at {first_two}," in result and "(Berlin time)" in result


def test_availability_on_a_weekend_offers_the_next_days(resource, monday):
    sunday = monday - dt.timedelta(days=1)
    result = ask("check_availability", {"date": sunday.isoformat()})["result"]
    assert result.startswith(f"Dr. Patel has no free times on {sunday:%A}")
    assert f"{monday:%A}, {monday:%B} {monday.day} at 9 AM" in result


def test_availability_for_a_past_date(resource):
    result = ask("check_availability", {"date": "2020-01-06"})["result"]
    assert result.startswith("Monday, January 6 has already passed; today is ")
    assert "The next free times with Dr. Patel are" in result


@pytest.mark.parametrize(
    "arguments,expected",
    [
        ({"date": "next monday"}, "I need the date as year-month-day, for example 2026-03-17."),
        ({"date": "2026-02-30"}, "I need the date as year-month-day, for example 2026-03-17."),
        ({"count": 50}, "I can offer between 1 and 10 times."),
        ({"count": "lots"}, "The number of times to offer must be a whole number."),
        (
            {"time_zone": "Mars/Olympus"},
            "I need the time zone as a region and city, for example America/Chicago.",
        ),
    ],
)
def test_availability_bad_arguments(resource, arguments, expected):
    assert ask("check_availability", arguments)["error"] == expected


def test_availability_unknown_or_ambiguous_resource(resource):
    ResourceFactory(name="Dr. Kim")
    assert ask("check_availability", {"resource": "Dr. Who"})["error"] == (
        "I couldn't find Dr. Who. You can choose Dr. Kim or Dr. Patel."
    )
    assert ask("check_availability", {})["error"] == (
        "I need to know who the appointment is with. You can choose Dr. Kim or Dr. Patel."
    )


def test_availability_with_no_resources_at_all():
    assert ask("check_availability", {})["error"] == "There is nobody to book with at the moment."


# --- book_appointment -----------------------------------------------------------------------


def test_book_for_a_new_caller_creates_the_customer_with_a_unicode_name(resource, monday):
    call = CallFactory()
    result = ask(
        "book_appointment",
        {"date": monday.isoformat(), "time": "10:30", "name": "Zoë Ñúñez-Østergård 王", "notes": "cleaning"},
        vapi_call_id=call.vapi_id,
    )["result"]
    assert result.startswith(f"Booked with Dr. Patel on {monday:%A}, {monday:%B} {monday.day} at 10:30 AM")
    appointment = Appointment.objects.get()
    assert appointment.confirmation_code == code_in(result)
    assert appointment.starts_at == at(monday, "10:30")
    assert appointment.call_id == call.pk and appointment.notes == "cleaning"
    assert appointment.customer.name == "Zoë Ñúñez-Østergård 王"
    assert str(appointment.customer.number) == CALLER


def test_book_in_the_customers_own_time_zone(resource, monday):
    CustomerFactory(number=CALLER, time_zone="Europe/London")
    result = ask("book_appointment", {"date": monday.isoformat(), "time": "15:00"})["result"]
    assert "at 3 PM (London time)" in result
    assert Appointment.objects.get().starts_at == at(monday, "15:00", tz="Europe/London")


@pytest.mark.parametrize("spoken", ["2:30 PM", "14:30", "2:30pm", "14:30:00"])
def test_book_accepts_common_time_spellings(resource, monday, spoken):
    assert "result" in ask("book_appointment", {"date": monday.isoformat(), "time": spoken})
    assert Appointment.objects.get().starts_at == at(monday, "14:30")


def test_book_a_taken_slot_offers_the_next_free_times(resource, monday):
    AppointmentFactory(resource=resource, starts_at=at(monday, "10:00"), ends_at=at(monday, "10:30"))
    result = ask("book_appointment", {"date": monday.isoformat(), "time": "10:00"})["result"]
    assert result.startswith(f"Sorry, {monday:%A}, {monday:%B} {monday.day} at 10 AM was just taken.")
    assert "The next free times with Dr. Patel are" in result and "10:30 AM, 11 AM or 11:30 AM" in result


def test_book_outside_working_hours_offers_that_days_times(resource, monday):
    result = ask("book_appointment", {"date": monday.isoformat(), "time": "19:00"})["result"]
    assert result.startswith("Dr. Patel doesn't take appointments at 7 PM on that day.")
    assert f"{monday:%B} {monday.day} at 9 AM" in result
    assert not Appointment.objects.exists()


def test_book_in_the_past(resource):
    result = ask("book_appointment", {"date": "2020-01-06", "time": "10:00"})["result"]
    assert result.startswith("Monday, January 6 at 10 AM has already passed.")
    assert not Appointment.objects.exists()


def test_book_without_a_caller_number_books_nothing(resource, monday):
    result = ask("book_appointment", {"date": monday.isoformat(), "time": "10:00"}, number=None)
    assert result["error"] == (
        "I can't see a phone number for this call, so I can't book for you; "
        "please call us from your phone to book."
    )
    assert not Appointment.objects.exists()


def test_book_with_a_customer_id_books_for_the_caller_not_that_customer(resource, monday):
    other = CustomerFactory(time_zone="Asia/Kolkata")
    result = ask("book_appointment", {"date": monday.isoformat(), "time": "10:30", "customer_id": other.pk})
    assert "at 10:30 AM (New York time)" in result["result"]
    assert Appointment.objects.get().customer.number == CALLER
    assert not other.appointments.exists()


@pytest.mark.parametrize(
    "arguments,expected",
    [
        ({"time": "10:00"}, "I need the date as year-month-day, for example 2026-03-17."),
        (
            {"date": "2026-13-01", "time": "10:00"},
            "I need the date as year-month-day, for example 2026-03-17.",
        ),
        (
            {"date": "2030-01-07"},
            "I need the time as hours and minutes on a 24-hour clock, for example 14:30.",
        ),
        ({"date": "2030-01-07", "time": "half past ten"}, "I need the time as hours and minutes"),
        (
            {"date": "2030-01-07", "time": "10:00", "name": "x" * 201},
            "Ensure this field has no more than 200",
        ),
    ],
)
def test_book_bad_arguments(resource, arguments, expected):
    assert ask("book_appointment", arguments)["error"].startswith(expected)
    assert not Appointment.objects.exists()


def test_book_a_new_name_does_not_overwrite_an_existing_one(resource, monday):
    CustomerFactory(number=CALLER, name="Dana Whitfield")
    ask("book_appointment", {"date": monday.isoformat(), "time": "10:00", "name": "Someone Else"})
    assert Customer.objects.get(number=CALLER).name == "Dana Whitfield"


# --- cancel_appointment -----------------------------------------------------------------------


def test_cancel_by_spoken_code(resource, monday):
    booked = ask("book_appointment", {"date": monday.isoformat(), "time": "11:00"})["result"]
    spaced = " ".join(code_in(booked).lower())
    result = ask("cancel_appointment", {"confirmation_code": spaced})["result"]
    assert result.startswith(f"Cancelled the appointment with Dr. Patel on {monday:%A}")
    assert Appointment.objects.get().status == AppointmentStatus.CANCELLED
    again = ask("cancel_appointment", {"confirmation_code": code_in(booked)})["result"]
    assert again == result  # cancelling again (a retry) is harmless and says the same


def test_cancel_unknown_or_missing_code(resource):
    assert ask("cancel_appointment", {"confirmation_code": "ZZZZ99"})["error"] == (
        "I couldn't find an appointment with that code booked from this phone number. "
        "If it was booked from another number, tell me that number as well."
    )
    assert ask("cancel_appointment", {})["error"] == "I need the confirmation code of the appointment."
    assert ask("cancel_appointment", {"confirmation_code": "A1"})["error"] == (
        "The confirmation code is six letters and digits."
    )


def test_cancel_a_completed_appointment_is_refused(resource):
    done = AppointmentFactory(
        resource=resource,
        customer=CustomerFactory(number=CALLER),
        status=AppointmentStatus.COMPLETED,
        confirmation_code="DONE42",
    )
    assert ask("cancel_appointment", {"confirmation_code": "done42"})["error"] == (
        "That appointment is completed and can't be cancelled."
    )
    done.refresh_from_db()
    assert done.status == AppointmentStatus.COMPLETED


# --- reschedule_appointment ---------------------------------------------------------------------


def test_reschedule_moves_and_gives_a_new_code(resource, monday):
    old_code = code_in(ask("book_appointment", {"date": monday.isoformat(), "time": "09:00"})["result"])
    tuesday = monday + dt.timedelta(days=1)
    result = ask(
        "reschedule_appointment",
        {"confirmation_code": old_code, "date": tuesday.isoformat(), "time": "13:00"},
    )["result"]
    assert result.startswith(f"Moved the appointment with Dr. Patel from {monday:%A}")
    assert f"to {tuesday:%A}, {tuesday:%B} {tuesday.day} at 1 PM (New York time)" in result
    new_code = code_in(result.replace("new confirmation code is", "code is"))
    assert Appointment.objects.get(confirmation_code=new_code).starts_at == at(tuesday, "13:00")
    assert Appointment.objects.get(confirmation_code=old_code).status == AppointmentStatus.RESCHEDULED


def test_reschedule_to_a_taken_time_keeps_the_old_one(resource, monday):
    old_code = code_in(ask("book_appointment", {"date": monday.isoformat(), "time": "09:00"})["result"])
    AppointmentFactory(resource=resource, starts_at=at(monday, "12:00"), ends_at=at(monday, "12:30"))
    result = ask(
        "reschedule_appointment", {"confirmation_code": old_code, "date": monday.isoformat(), "time": "12:00"}
    )["result"]
    assert result.startswith(
        f"Sorry, {monday:%A}, {monday:%B} {monday.day} at 12 PM is taken, so the appointment"
    )
    assert Appointment.objects.get(confirmation_code=old_code).status == AppointmentStatus.BOOKED


def test_reschedule_to_the_past_or_outside_hours(resource, monday):
    old_code = code_in(ask("book_appointment", {"date": monday.isoformat(), "time": "09:00"})["result"])
    past = ask(
        "reschedule_appointment", {"confirmation_code": old_code, "date": "2020-01-06", "time": "10:00"}
    )
    assert past["result"].startswith("The appointment stays on ") and "has already passed" in past["result"]
    late = ask(
        "reschedule_appointment", {"confirmation_code": old_code, "date": monday.isoformat(), "time": "22:00"}
    )
    assert "doesn't take appointments at 10 PM" in late["result"]
    assert Appointment.objects.get(confirmation_code=old_code).status == AppointmentStatus.BOOKED


def test_reschedule_bad_arguments(resource):
    assert (
        ask("reschedule_appointment", {"confirmation_code": "ABCDEF", "date": "soon", "time": "10:00"})[
            "error"
        ]
        == "I need the date as year-month-day, for example 2026-03-17."
    )
    assert (
        "couldn't find an appointment"
        in ask(
            "reschedule_appointment", {"confirmation_code": "ABCDEF", "date": "2030-01-07", "time": "10:00"}
        )["error"]
    )
