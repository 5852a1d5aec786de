"""Phone numbers: import from GET /phone-number, bind to an assistant or to assistant-request."""

from __future__ import annotations

import pytest
import responses
from django.db import IntegrityError

from assistants.models import PhoneNumber
from assistants.services import phone_number_bind, phone_numbers_import
from tests.assistants.conftest import ASSISTANT_ID, CREDENTIAL_ID, VAPI, body_of, calls_to
from tests.conftest import load_fixture
from tests.factories import AssistantFactory, PhoneNumberFactory
from voiceops.errors import InvalidState
from voiceops.vapi.client import VapiBadRequest

pytestmark = pytest.mark.django_db

TWILIO_ID = "9e4b2d71-3c5a-4f88-b1d6-0a7c3e9f5b12"
VAPI_NUMBER_ID = "b5c7e9f1-2a4c-4e6a-8c0e-3f5a7c9e1b24"


def test_import_upserts_by_vapi_id_and_maps_routing(vapi):
    assistant = AssistantFactory(vapi_id=ASSISTANT_ID)
    vapi.add(responses.GET, f"{VAPI}/phone-number", json=load_fixture("rest/phone-numbers-list.json"))

    assert phone_numbers_import() == 2

    twilio = PhoneNumber.objects.get(vapi_id=TWILIO_ID)
    assert (str(twilio.number), twilio.provider, twilio.name) == (
        "+12125550187",
        "twilio",
        "Northwind outbound line",
    )
    assert twilio.assistant is None and twilio.ask_server is True
    bound = PhoneNumber.objects.get(vapi_id=VAPI_NUMBER_ID)
    assert bound.assistant == assistant and bound.ask_server is False

    # A second import updates in place; a renamed number in Vapi is renamed here.
    listing = load_fixture("rest/phone-numbers-list.json")
    listing[0]["name"] = "Renamed line"
    vapi.replace(responses.GET, f"{VAPI}/phone-number", json=listing)
    assert phone_numbers_import() == 2
    assert PhoneNumber.objects.count() == 2
    assert PhoneNumber.objects.get(vapi_id=TWILIO_ID).name == "Renamed line"


def test_import_adopts_a_local_number_and_skips_sip_only_entries(vapi):
    local = PhoneNumberFactory(number="+12125550187", vapi_id=None, assistant=None)
    listing = load_fixture("rest/phone-numbers-list.json")[:1]
    listing.append({"id": "sip-1", "provider": "byo-phone-number", "sipUri": "sip:desk@example.invalid"})
    vapi.add(responses.GET, f"{VAPI}/phone-number", json=listing)

    assert phone_numbers_import() == 1
    local.refresh_from_db()
    assert local.vapi_id == TWILIO_ID
    assert not PhoneNumber.objects.filter(vapi_id="sip-1").exists()


def test_bind_to_assistant_updates_vapi_then_us(vapi):
    assistant = AssistantFactory(vapi_id=ASSISTANT_ID)
    number = PhoneNumberFactory(assistant=None, ask_server=True)
    vapi.add(responses.PATCH, f"{VAPI}/phone-number/{number.vapi_id}", json={"id": number.vapi_id})

    phone_number_bind(phone_number=number, assistant=assistant)

    assert body_of(calls_to(vapi, "PATCH", f"/phone-number/{number.vapi_id}")[0]) == {
        "assistantId": ASSISTANT_ID
    }
    number.refresh_from_db()
    assert (number.assistant, number.ask_server) == (assistant, False)


def test_bind_to_ask_the_server_sends_null_assistant_and_our_server(vapi):
    number = PhoneNumberFactory()
    vapi.add(responses.PATCH, f"{VAPI}/phone-number/{number.vapi_id}", json={"id": number.vapi_id})

    phone_number_bind(phone_number=number, assistant=None)

    body = body_of(calls_to(vapi, "PATCH", f"/phone-number/{number.vapi_id}")[0])
    assert body["assistantId"] is None
    assert body["server"]["url"] == "https://voiceops.example.com/webhooks/vapi/"
    assert body["server"]["credentialId"] == CREDENTIAL_ID
    number.refresh_from_db()
    assert (number.assistant, number.ask_server) == (None, True)


def test_bind_refused_by_vapi_changes_nothing_here(vapi):
    assistant = AssistantFactory(vapi_id=ASSISTANT_ID)
    number = PhoneNumberFactory(assistant=None, ask_server=True)
    vapi.add(responses.PATCH, f"{VAPI}/phone-number/{number.vapi_id}", json={"message": "nope"}, status=400)
    with pytest.raises(VapiBadRequest):
        phone_number_bind(phone_number=number, assistant=assistant)
    number.refresh_from_db()
    assert (number.assistant, number.ask_server) == (None, True)


def test_bind_needs_pushed_assistant_and_imported_number(vapi):
    with pytest.raises(InvalidState, match="push it first"):
        phone_number_bind(phone_number=PhoneNumberFactory(), assistant=AssistantFactory(vapi_id=None))
    with pytest.raises(InvalidState, match="import phone numbers"):
        phone_number_bind(phone_number=PhoneNumberFactory(vapi_id=None), assistant=None)
    assert len(vapi.calls) == 0


def test_a_number_cannot_have_both_routes(db):
    with pytest.raises(IntegrityError):
        PhoneNumberFactory(ask_server=True)
