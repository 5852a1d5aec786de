"""Admin forms turn bad input into form errors, never 500s; stamps the DB constraints require."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from calls.models import Customer
from calls.services.customers import customer_opt_out
from tests.factories import AppointmentFactory, CustomerFactory, ResourceFactory
from tools.models import Appointment

pytestmark = pytest.mark.django_db


def customer_form(customer: Customer, **changes) -> dict:
    data = {
        "number": str(customer.number),
        "name": customer.name,
        "email": customer.email,
        "external_id": "",
        "time_zone": customer.time_zone,
        "do_not_call_reason": "",
        "do_not_call_source": "",
        "consent_source": "",
    }
    data.update(changes)
    return data


def test_ticking_do_not_call_stamps_time_and_source(manager_client):
    customer = CustomerFactory()
    url = reverse("admin:calls_customer_change", args=[customer.pk])
    response = manager_client.post(url, customer_form(customer, do_not_call="on", do_not_call_reason="asked"))
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert (
        customer.do_not_call
        and customer.do_not_call_at is not None
        and customer.do_not_call_source == "admin"
    )


def test_an_admin_edit_of_a_listed_customer_changes_what_the_form_changed(manager_client):
    """Saved through the customer service: the name changes, the opt-out keeps its time and
    source, and the edit is one history row."""
    customer = customer_opt_out(number=str(CustomerFactory(name="Before").number), reason="Said stop")
    listed_at = customer.do_not_call_at
    history = customer.history.count()
    form = customer_form(
        customer, name="After", do_not_call="on", do_not_call_reason="Said stop", do_not_call_source="tool"
    )
    form.update(
        {
            "do_not_call_at_0": listed_at.strftime("%Y-%m-%d"),
            "do_not_call_at_1": listed_at.strftime("%H:%M:%S.%f"),
        }
    )
    response = manager_client.post(reverse("admin:calls_customer_change", args=[customer.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert (customer.name, customer.do_not_call, customer.do_not_call_source) == ("After", True, "tool")
    assert customer.do_not_call_at == listed_at
    assert customer.history.count() == history + 1


def test_adding_a_customer_with_a_paper_consent_keeps_its_date(manager_client):
    """The consent was signed weeks before staff typed it in: that date is kept, not "now"."""
    now = dt.datetime(2026, 3, 30, 15, 0, tzinfo=dt.UTC)
    consent_at = now - dt.timedelta(days=28, hours=5)
    data = customer_form(Customer(number="+14155550177", name="Paper", time_zone="UTC"), consent="on")
    data.update(
        {
            "consent_at_0": consent_at.strftime("%Y-%m-%d"),
            "consent_at_1": consent_at.strftime("%H:%M:%S"),
            "consent_source": "paper form",
        }
    )
    with time_machine.travel(now, tick=False):
        response = manager_client.post(reverse("admin:calls_customer_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = Customer.objects.get(number="+14155550177")
    assert (stored.consent, stored.consent_at, stored.consent_source) == (True, consent_at, "paper form")
    assert stored.history.count() == 1


def test_bad_time_zone_is_a_form_error(manager_client):
    customer = CustomerFactory()
    url = reverse("admin:calls_customer_change", args=[customer.pk])
    response = manager_client.post(url, customer_form(customer, time_zone="Mars/Olympus"))
    assert response.status_code == 200
    assert "is not an IANA time zone" in response.content.decode()


def appointment_form(appointment_like: dict) -> dict:
    return {
        "resource": appointment_like["resource"].pk,
        "customer": appointment_like["customer"].pk,
        "starts_at_0": appointment_like["starts_at"].strftime("%Y-%m-%d"),
        "starts_at_1": appointment_like["starts_at"].strftime("%H:%M:%S"),
        "ends_at_0": appointment_like["ends_at"].strftime("%Y-%m-%d"),
        "ends_at_1": appointment_like["ends_at"].strftime("%H:%M:%S"),
        "status": "booked",
        "confirmation_code": appointment_like["code"],
        "notes": "",
    }


def test_overlapping_appointment_is_a_form_error(manager_client):
    resource = ResourceFactory()
    start = timezone.localtime(timezone.now() + dt.timedelta(days=2)).replace(
        minute=0, second=0, microsecond=0
    )
    AppointmentFactory(resource=resource, starts_at=start, ends_at=start + dt.timedelta(minutes=30))
    data = appointment_form(
        {
            "resource": resource,
            "customer": CustomerFactory(),
            "starts_at": start + dt.timedelta(minutes=15),
            "ends_at": start + dt.timedelta(minutes=45),
            "code": "OVERLAP1",
        }
    )
    response = manager_client.post(reverse("admin:tools_appointment_add"), data)
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert not Appointment.objects.filter(confirmation_code="OVERLAP1").exists()


def test_appointment_ending_before_it_starts_is_a_form_error(manager_client):
    start = timezone.localtime(timezone.now() + dt.timedelta(days=3)).replace(
        minute=0, second=0, microsecond=0
    )
    data = appointment_form(
        {
            "resource": ResourceFactory(),
            "customer": CustomerFactory(),
            "starts_at": start,
            "ends_at": start - dt.timedelta(minutes=30),
            "code": "BACKWARD",
        }
    )
    response = manager_client.post(reverse("admin:tools_appointment_add"), data)
    assert response.status_code == 200 and "errornote" in response.content.decode()
    assert not Appointment.objects.filter(confirmation_code="BACKWARD").exists()


def test_valid_appointment_is_saved(manager_client):
    start = timezone.localtime(timezone.now() + dt.timedelta(days=4)).replace(
        minute=0, second=0, microsecond=0
    )
    data = appointment_form(
        {
            "resource": ResourceFactory(),
            "customer": CustomerFactory(),
            "starts_at": start,
            "ends_at": start + dt.timedelta(minutes=30),
            "code": "GOODONE",
        }
    )
    response = manager_client.post(reverse("admin:tools_appointment_add"), data)
    assert response.status_code == 302
    assert Appointment.objects.filter(confirmation_code="GOODONE").exists()


def test_do_not_call_action(manager_client, viewer_client):
    first, second = CustomerFactory(), CustomerFactory()
    url = reverse("admin:calls_customer_changelist")
    payload = {"action": "put_on_do_not_call_list", "_selected_action": [first.pk, second.pk]}
    assert "put_on_do_not_call_list" not in viewer_client.get(url).content.decode()
    viewer_client.post(url, payload)
    assert not Customer.objects.filter(do_not_call=True).exists()
    response = manager_client.post(url, payload, follow=True)
    assert "2 customer(s) are on the do-not-call list." in response.content.decode()
    for customer in (first, second):
        customer.refresh_from_db()
        assert customer.do_not_call and customer.do_not_call_source == "admin"
        assert customer.do_not_call_reason == "Set in the admin by manager"
