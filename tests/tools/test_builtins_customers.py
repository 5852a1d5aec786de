"""get_customer_info and opt_out as a caller hears them."""

from __future__ import annotations

import zoneinfo

import pytest
from django.utils import timezone

from calls.models import Customer
from tests.factories import AppointmentFactory, CustomerFactory
from tests.tools.conftest import CALLER, at
from tests.tools.helpers import ask
from tools.models import AppointmentStatus
from tools.speech import spoken_time

pytestmark = pytest.mark.django_db
DUBLIN = zoneinfo.ZoneInfo("Europe/Dublin")


def test_info_for_the_caller_by_number_with_upcoming_appointments(resource, monday):
    customer = CustomerFactory(number=CALLER, name="Siobhán Ó Briain", time_zone="Europe/Dublin")
    AppointmentFactory(
        resource=resource,
        customer=customer,
        starts_at=at(monday, "10:00"),
        ends_at=at(monday, "10:30"),
        confirmation_code="K7QX2M",
    )
    AppointmentFactory(
        resource=resource,
        customer=customer,
        starts_at=at(monday, "11:00"),
        ends_at=at(monday, "11:30"),
        status=AppointmentStatus.CANCELLED,
    )
    result = ask("get_customer_info", {})["result"]
    assert result == (
        "This is Siobhán Ó Briain. Upcoming appointments: with Dr. Patel on "
        f"{monday:%A}, {monday:%B} {monday.day} at {spoken_time(at(monday, '10:00'), DUBLIN)} (Dublin time), "
        "code K 7 Q X 2 M."
    )


def test_info_mentions_do_not_call():
    CustomerFactory(number=CALLER, name="", do_not_call=True, do_not_call_at=timezone.now())
    result = ask("get_customer_info", {})["result"]
    assert result == "This caller has no name on file. No upcoming appointments. They asked not to be called."


def test_info_ignores_a_customer_id_and_answers_for_the_caller_only():
    other = CustomerFactory(name="Somebody Else")
    result = ask("get_customer_info", {"customer_id": other.pk})["result"]
    assert result == "There is no customer record for this phone number; this is a new caller."
    assert "Somebody Else" not in result


def test_info_for_an_unknown_caller():
    assert ask("get_customer_info", {})["result"] == (
        "There is no customer record for this phone number; this is a new caller."
    )


def test_info_without_a_number_acts_on_nobody():
    assert ask("get_customer_info", {}, number=None)["error"] == (
        "I can't see a phone number for this call, so I can't look up your details."
    )


def test_the_caller_number_from_call_customer_when_message_customer_is_absent(monkeypatch):
    from tests.tools.conftest import tool_call, tool_message
    from tools.dispatcher import tool_calls_answer

    CustomerFactory(number="+14155550188", name="Ada")
    message = tool_message(tool_call("get_customer_info", {}), number="+14155550188")
    message.pop("customer")
    result = tool_calls_answer(message=message, event_id=None)["results"][0]["result"]
    assert result.startswith("This is Ada.")


def test_opt_out_an_unknown_caller_creates_a_do_not_call_entry_at_once():
    before = timezone.now()
    result = ask("opt_out", {"reason": "Stop calling me — s'il vous plaît"})["result"]
    assert result == "Done: this number is on our do-not-call list and won't be called again."
    customer = Customer.objects.get(number=CALLER)
    assert customer.do_not_call is True
    assert customer.do_not_call_source == "tool"
    assert customer.do_not_call_reason == "Stop calling me — s'il vous plaît"
    assert customer.do_not_call_at >= before


def test_opt_out_twice_keeps_the_first_time_and_reason():
    ask("opt_out", {"reason": "first"})
    first = Customer.objects.get(number=CALLER)
    ask("opt_out", {"reason": "second"})
    again = Customer.objects.get(number=CALLER)
    assert (again.do_not_call_at, again.do_not_call_reason) == (first.do_not_call_at, "first")


def test_opt_out_with_a_customer_id_only_opts_out_the_caller():
    other = CustomerFactory()
    assert "do-not-call" in ask("opt_out", {"customer_id": other.pk})["result"]
    other.refresh_from_db()
    assert not other.do_not_call
    assert Customer.objects.get(number=CALLER).do_not_call


def test_opt_out_without_a_number_acts_on_nobody():
    other = CustomerFactory()
    assert ask("opt_out", {"customer_id": other.pk}, number=None)["error"] == (
        "I can't see a phone number for this call, so I can't take a number off our call list from here."
    )
    other.refresh_from_db()
    assert not other.do_not_call
    assert not Customer.objects.filter(do_not_call=True).exists()
