"""POST /api/v1/calls/: places one call through call_place_outbound; Idempotency-Key dials once."""

from __future__ import annotations

import uuid

import pytest
import responses

from calls.campaigns.services.control import outbound_kill_switch_set
from calls.models import Call, Customer
from tests.api.conftest import assert_error
from tests.calls.campaign_support import FakeVapi
from tests.factories import AssistantFactory, CustomerFactory, PhoneNumberFactory
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db
URL = "/api/v1/calls/"


@pytest.fixture
def vapi(settings):
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeVapi(rsps)


@pytest.fixture
def assistant():
    return AssistantFactory(vapi_id=str(uuid.uuid4()), pushed_version=2)


@pytest.fixture
def caller(client_with):
    return client_with(Scope.CALLS_WRITE)


def test_places_a_call_and_answers_the_call_resource(vapi, assistant, caller):
    phone = PhoneNumberFactory()
    body = {
        "assistant": assistant.pk,
        "customer_number": "+14155550123",
        "customer_name": "Dana",
        "phone_number": phone.pk,
        "variables": {"orderNumber": "NW-1"},
    }
    response = caller.post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    call = Call.objects.get(pk=data["id"])
    assert data["vapi_id"] == call.vapi_id and data["customer_number"] == "+14155550123"
    assert data["transcript"] == [] and data["tool_invocations"] == []
    (payload,) = vapi.payloads
    assert payload["assistantOverrides"] == {"variableValues": {"orderNumber": "NW-1"}}
    assert payload["phoneNumberId"] == phone.vapi_id


def test_same_idempotency_key_dials_once_and_replays(vapi, assistant, caller):
    body = {"assistant": assistant.pk, "customer_number": "+14155550124"}
    first = caller.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="call-1")
    second = caller.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="call-1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true" and second.json() == first.json()
    assert len(vapi.payloads) == 1 and Call.objects.count() == 1


def test_same_key_other_number_is_422_and_dials_nothing(vapi, assistant, caller):
    caller.post(URL, {"assistant": assistant.pk, "customer_number": "+14155550125"}, format="json",
                HTTP_IDEMPOTENCY_KEY="call-2")  # fmt: skip
    response = caller.post(
        URL,
        {"assistant": assistant.pk, "customer_number": "+14155550126"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="call-2",
    )
    assert_error(response, 422, "idempotency_key_mismatch")
    assert len(vapi.payloads) == 1


def test_service_dedupe_holds_even_if_the_api_record_is_lost(vapi, assistant, caller):
    from voiceops.api.models import IdempotencyRecord

    body = {"assistant": assistant.pk, "customer_number": "+14155550127"}
    first = caller.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="call-3")
    IdempotencyRecord.objects.all().delete()
    again = caller.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="call-3")
    assert again.json()["id"] == first.json()["id"] and len(vapi.payloads) == 1


@pytest.mark.parametrize(
    "body,field",
    [
        ({"customer_number": "+14155550123"}, "assistant"),
        ({"assistant": 999999, "customer_number": "+14155550123"}, "assistant"),
        ({"customer_number": "not a number"}, "customer_number"),
        ({"customer_number": "+14155550123", "variables": ["x"]}, "variables"),
        ({"customer_number": "+14155550123", "phone_number": 999999}, "phone_number"),
    ],
)
def test_validation_errors_name_the_field(vapi, assistant, caller, body, field):
    body = {"assistant": assistant.pk, **body} if "assistant" not in body and field != "assistant" else body
    error = assert_error(caller.post(URL, body, format="json"), 400, "validation_error")
    assert field in error["fields"]
    assert vapi.payloads == []


def test_do_not_call_number_is_refused_422(vapi, assistant, caller):
    CustomerFactory(number="+14155550128", do_not_call=True, do_not_call_at="2026-01-01T00:00:00Z")
    response = caller.post(URL, {"assistant": assistant.pk, "customer_number": "+14155550128"}, format="json")
    assert_error(response, 422)
    assert vapi.payloads == []


def test_kill_switch_is_409(vapi, assistant, caller):
    outbound_kill_switch_set(paused=True, by="test")
    response = caller.post(URL, {"assistant": assistant.pk, "customer_number": "+14155550129"}, format="json")
    assert_error(response, 409)
    assert vapi.payloads == []


def test_unpushed_assistant_is_409(vapi, caller):
    response = caller.post(
        URL, {"assistant": AssistantFactory().pk, "customer_number": "+14155550130"}, format="json"
    )
    assert_error(response, 409, "invalid_state")
    assert not Customer.objects.filter(number="+14155550130").exists() or vapi.payloads == []


def test_vapi_refusal_is_an_error_not_a_500(assistant, caller, settings):
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, "http://vapi.test/call", json={"message": "bad"}, status=400)
        response = caller.post(
            URL, {"assistant": assistant.pk, "customer_number": "+14155550131"}, format="json"
        )
    assert response.status_code in (422, 502)
    assert_error(response, response.status_code)
