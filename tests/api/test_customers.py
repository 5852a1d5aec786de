"""/api/v1/customers/: CRUD, validation messages per field, do-not-call, protected deletes."""

from __future__ import annotations

import datetime as dt

import pytest

from calls.models import Customer
from calls.services.customers import customer_opt_out
from tests.api.conftest import assert_error
from tests.factories import AppointmentFactory, CustomerFactory
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/"


@pytest.fixture
def writer(client_with):
    return client_with(Scope.READ, Scope.CUSTOMERS_WRITE)


def test_create_normalises_the_number_and_stamps_consent(writer):
    response = writer.post(
        URL,
        {"number": "(202) 555-0142", "name": "Ada", "consent": True, "time_zone": "America/Chicago"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == "+12025550142"
    assert body["consent"] is True and body["consent_at"]
    assert Customer.objects.get(pk=body["id"]).time_zone == "America/Chicago"


def test_create_reports_each_bad_field(writer):
    response = writer.post(URL, {"number": "12", "email": "nope", "time_zone": "Mars/Base"}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert set(error["fields"]) == {"number", "email", "time_zone"}
    assert error["fields"]["number"] == ["Enter a valid phone number."]
    assert "IANA" in error["fields"]["time_zone"][0]


def test_duplicate_number_is_a_field_error(writer):
    CustomerFactory(number="+12025550143")
    error = assert_error(writer.post(URL, {"number": "+12025550143"}, format="json"), 400, "validation_error")
    assert "number" in error["fields"]


def test_list_filters_by_number_even_when_plus_became_a_space(writer):
    wanted = CustomerFactory(number="+12025550144")
    CustomerFactory(number="+12025550145")
    response = writer.get(URL, {"number": " 12025550144"})
    assert [c["id"] for c in response.json()["results"]] == [wanted.pk]


def test_patch_and_withdraw_consent(writer):
    customer = CustomerFactory(consent=False)
    response = writer.patch(f"{URL}{customer.pk}/", {"consent": True, "name": "New"}, format="json")
    assert response.status_code == 200 and response.json()["consent_at"]
    response = writer.patch(f"{URL}{customer.pk}/", {"consent": False}, format="json")
    assert response.json()["consent_at"] is None
    assert Customer.objects.get(pk=customer.pk).name == "New"


def test_put_is_not_offered(writer):
    customer = CustomerFactory()
    assert_error(writer.put(f"{URL}{customer.pk}/", {"number": "+12025550150"}, format="json"), 405)


def test_do_not_call_on_and_off(writer):
    customer = CustomerFactory()
    url = f"{URL}{customer.pk}/do-not-call/"
    response = writer.post(url, {"reason": "Asked not to be called"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["do_not_call"] is True and body["do_not_call_source"] == "api" and body["do_not_call_at"]
    assert body["do_not_call_reason"] == "Asked not to be called"
    response = writer.post(url, {"do_not_call": False}, format="json")
    body = response.json()
    # Taking the number off says who and when; the listing itself stays in the history.
    assert body["do_not_call"] is False and body["do_not_call_source"] == "api" and body["do_not_call_at"]
    history = list(customer.history.order_by("history_id"))
    listed = [h for h in history if h.do_not_call]
    assert listed and listed[-1].do_not_call_reason == "Asked not to be called"
    assert listed[-1].do_not_call_source == "api"
    assert history[-1].do_not_call is False
    assert history[-1].history_change_reason.startswith("API key ")


def test_do_not_call_again_keeps_the_first_opt_out(writer):
    """The earliest opt-out is what compliance asks about: the API no longer overwrites it,
    whoever listed the number first (here a caller, through the opt_out tool)."""
    customer = CustomerFactory()
    first = customer_opt_out(number=str(customer.number), reason="Said stop on a call", source="tool")
    url = f"{URL}{customer.pk}/do-not-call/"
    history_rows = customer.history.count()
    for reason in ("Asked by email", "Asked again"):
        response = writer.post(url, {"reason": reason}, format="json")
        assert response.status_code == 200
        body = response.json()
        assert body["do_not_call"] is True
        assert (body["do_not_call_reason"], body["do_not_call_source"]) == ("Said stop on a call", "tool")
    again = Customer.objects.get(pk=customer.pk)
    assert again.do_not_call_at == first.do_not_call_at
    assert customer.history.count() == history_rows  # nothing changed, nothing recorded


def test_listing_again_after_taking_off_is_a_new_opt_out(writer):
    customer = CustomerFactory()
    url = f"{URL}{customer.pk}/do-not-call/"
    listed = writer.post(url, {"reason": "first"}, format="json").json()
    taken_off = writer.post(url, {"do_not_call": False}, format="json").json()
    relisted = writer.post(url, {"reason": "second"}, format="json").json()
    assert relisted["do_not_call"] is True and relisted["do_not_call_reason"] == "second"
    # A new opt-out with its own time, not the removal's; the first stays in the history.
    at = [dt.datetime.fromisoformat(body["do_not_call_at"]) for body in (listed, taken_off, relisted)]
    assert at[2] > at[1] > at[0]
    assert customer.history.filter(do_not_call=True, do_not_call_reason="first").exists()


def test_do_not_call_is_read_only_through_patch(writer):
    customer = CustomerFactory()
    writer.patch(f"{URL}{customer.pk}/", {"do_not_call": True}, format="json")
    assert Customer.objects.get(pk=customer.pk).do_not_call is False


def test_delete_of_a_customer_with_appointments_is_409(writer):
    appointment = AppointmentFactory()
    response = writer.delete(f"{URL}{appointment.customer_id}/")
    assert_error(response, 409, "protected")
    assert Customer.objects.filter(pk=appointment.customer_id).exists()


def test_delete(writer):
    customer = CustomerFactory()
    assert writer.delete(f"{URL}{customer.pk}/").status_code == 204
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_unknown_customer_is_404_json(writer):
    assert_error(writer.get(f"{URL}999999/"), 404, "not_found")
