"""Phone numbers: import from GET /phone-number, fixed or routed mode kept in step with Vapi, drift check."""

from __future__ import annotations

import pytest
import responses

from assistants.models import NumberMode, PhoneNumber, VapiRoute
from assistants.services import phone_number_bind, phone_numbers_import
from assistants.services.phone_numbers import phone_number_check, phone_number_set_mode
from tests.assistants.conftest import ASSISTANT_ID, CREDENTIAL_ID, VAPI, body_of, calls_to
from tests.conftest import load_fixture
from tests.factories import AssistantFactory, PhoneNumberFactory
from voiceops.errors import InvalidState
from voiceops.vapi.client import VapiBadRequest

pytestmark = pytest.mark.django_db

TWILIO_ID = "9e4b2d71-3c5a-4f88-b1d6-0a7c3e9f5b12"
VAPI_NUMBER_ID = "b5c7e9f1-2a4c-4e6a-8c0e-3f5a7c9e1b24"


def test_import_takes_vapis_mode_for_new_numbers(vapi):
    assistant = AssistantFactory(vapi_id=ASSISTANT_ID)
    vapi.add(responses.GET, f"{VAPI}/phone-number", json=load_fixture("rest/phone-numbers-list.json"))

    assert phone_numbers_import() == 2

    twilio = PhoneNumber.objects.get(vapi_id=TWILIO_ID)
    assert (str(twilio.number), twilio.provider, twilio.name) == (
        "+12125550187",
        "twilio",
        "Northwind outbound line",
    )
    # No assistant in Vapi, a server URL set: Vapi asks us per call, so it is routed.
    assert (twilio.mode, twilio.vapi_mode, twilio.assistant) == (NumberMode.ROUTED, VapiRoute.ROUTED, None)
    assert twilio.vapi_server_url == "https://voiceops.example.com/vapi/webhook"
    assert twilio.vapi_differs == ""
    bound = PhoneNumber.objects.get(vapi_id=VAPI_NUMBER_ID)
    assert (bound.mode, bound.vapi_mode, bound.assistant) == (NumberMode.FIXED, VapiRoute.FIXED, assistant)
    assert bound.vapi_assistant_id == ASSISTANT_ID and bound.vapi_differs == ""

    # A second import updates in place; a renamed number in Vapi is renamed here.
    listing = load_fixture("rest/phone-numbers-list.json")
    listing[0]["name"] = "Renamed line"
    vapi.replace(responses.GET, f"{VAPI}/phone-number", json=listing)
    assert phone_numbers_import() == 2
    assert PhoneNumber.objects.count() == 2
    assert PhoneNumber.objects.get(vapi_id=TWILIO_ID).name == "Renamed line"


def test_import_keeps_our_mode_and_shows_what_vapi_changed(vapi):
    vapi.add(responses.GET, f"{VAPI}/phone-number", json=load_fixture("rest/phone-numbers-list.json"))
    phone_numbers_import()
    # Someone binds the routed number to an assistant in Vapi's dashboard.
    listing = load_fixture("rest/phone-numbers-list.json")
    listing[0]["assistantId"] = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    vapi.replace(responses.GET, f"{VAPI}/phone-number", json=listing)
    phone_numbers_import()

    twilio = PhoneNumber.objects.get(vapi_id=TWILIO_ID)
    assert twilio.mode == NumberMode.ROUTED and twilio.vapi_mode == VapiRoute.FIXED
    assert "Vapi has: Bound to an assistant" in twilio.vapi_differs


def test_import_adopts_a_local_number_and_skips_sip_only_entries(vapi):
    local = PhoneNumberFactory(number="+12125550187", vapi_id=None, assistant=None)
    listing = load_fixture("rest/phone-numbers-list.json")[:1]
    listing.append({"id": "sip-1", "provider": "byo-phone-number", "sipUri": "sip:desk@example.invalid"})
    vapi.add(responses.GET, f"{VAPI}/phone-number", json=listing)

    assert phone_numbers_import() == 1
    local.refresh_from_db()
    assert local.vapi_id == TWILIO_ID
    assert not PhoneNumber.objects.filter(vapi_id="sip-1").exists()


def test_fixed_mode_binds_the_assistant_in_vapi_then_us(vapi):
    assistant = AssistantFactory(vapi_id=ASSISTANT_ID)
    number = PhoneNumberFactory(assistant=None, mode=NumberMode.ROUTED)
    vapi.add(
        responses.PATCH,
        f"{VAPI}/phone-number/{number.vapi_id}",
        json={"id": number.vapi_id, "assistantId": ASSISTANT_ID},
    )

    phone_number_set_mode(phone_number=number, mode=NumberMode.FIXED, assistant=assistant)

    assert body_of(calls_to(vapi, "PATCH", f"/phone-number/{number.vapi_id}")[0]) == {
        "assistantId": ASSISTANT_ID,
        "squadId": None,
        "workflowId": None,
    }
    number.refresh_from_db()
    assert (number.mode, number.assistant, number.vapi_mode) == (NumberMode.FIXED, assistant, VapiRoute.FIXED)
    assert number.vapi_differs == ""


def test_routed_mode_unbinds_in_vapi_and_sets_our_server(vapi):
    default = AssistantFactory(vapi_id=ASSISTANT_ID)
    number = PhoneNumberFactory()
    url = "https://voiceops.example.com/webhooks/vapi/"
    vapi.add(
        responses.PATCH,
        f"{VAPI}/phone-number/{number.vapi_id}",
        json={"id": number.vapi_id, "assistantId": None, "server": {"url": url}},
    )

    phone_number_set_mode(phone_number=number, mode=NumberMode.ROUTED, assistant=default)

    body = body_of(calls_to(vapi, "PATCH", f"/phone-number/{number.vapi_id}")[0])
    assert body["assistantId"] is None and body["squadId"] is None
    assert body["server"]["url"] == url
    assert body["server"]["credentialId"] == CREDENTIAL_ID
    number.refresh_from_db()
    # Routed: no assistant in Vapi; ours is the default when no rule matches.
    assert (number.mode, number.assistant, number.vapi_mode) == (NumberMode.ROUTED, default, VapiRoute.ROUTED)
    assert number.vapi_server_url == url and number.vapi_differs == ""


def test_bind_shorthand_maps_to_modes(vapi):
    assistant = AssistantFactory(vapi_id=ASSISTANT_ID)
    number = PhoneNumberFactory()
    vapi.add(responses.PATCH, f"{VAPI}/phone-number/{number.vapi_id}", json={"id": number.vapi_id})
    phone_number_bind(phone_number=number, assistant=None)
    number.refresh_from_db()
    assert (number.mode, number.assistant) == (NumberMode.ROUTED, None)
    phone_number_bind(phone_number=number, assistant=assistant)
    number.refresh_from_db()
    assert (number.mode, number.assistant) == (NumberMode.FIXED, assistant)


def test_mode_refused_by_vapi_changes_nothing_here(vapi):
    assistant = AssistantFactory(vapi_id=ASSISTANT_ID)
    number = PhoneNumberFactory(assistant=None, mode=NumberMode.ROUTED)
    vapi.add(responses.PATCH, f"{VAPI}/phone-number/{number.vapi_id}", json={"message": "nope"}, status=400)
    with pytest.raises(VapiBadRequest):
        phone_number_set_mode(phone_number=number, mode=NumberMode.FIXED, assistant=assistant)
    number.refresh_from_db()
    assert (number.mode, number.assistant) == (NumberMode.ROUTED, None)


def test_mode_needs_pushed_assistant_imported_number_and_known_mode(vapi):
    with pytest.raises(InvalidState, match="push it first"):
        phone_number_set_mode(
            phone_number=PhoneNumberFactory(), mode=NumberMode.FIXED, assistant=AssistantFactory(vapi_id=None)
        )
    with pytest.raises(InvalidState, match="needs the assistant"):
        phone_number_set_mode(phone_number=PhoneNumberFactory(), mode=NumberMode.FIXED, assistant=None)
    with pytest.raises(InvalidState, match="import phone numbers"):
        phone_number_set_mode(
            phone_number=PhoneNumberFactory(vapi_id=None), mode=NumberMode.ROUTED, assistant=None
        )
    with pytest.raises(InvalidState, match="Unknown mode"):
        phone_number_set_mode(phone_number=PhoneNumberFactory(), mode="squad", assistant=None)
    assert len(vapi.calls) == 0


def test_drift_check_reads_vapis_copy(vapi):
    assistant = AssistantFactory(vapi_id=ASSISTANT_ID)
    number = PhoneNumberFactory(assistant=assistant, mode=NumberMode.FIXED)
    vapi.add(
        responses.GET,
        f"{VAPI}/phone-number/{number.vapi_id}",
        json={"id": number.vapi_id, "number": str(number.number)},
    )
    checked = phone_number_check(phone_number=number)
    assert checked.vapi_mode == VapiRoute.UNSET and checked.vapi_checked_at is not None
    assert "Vapi has: No assistant and no server URL" in checked.vapi_differs

    vapi.replace(
        responses.GET, f"{VAPI}/phone-number/{number.vapi_id}", json={"message": "Not Found"}, status=404
    )
    assert phone_number_check(phone_number=number).vapi_mode == VapiRoute.MISSING
