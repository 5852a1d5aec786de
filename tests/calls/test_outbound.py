"""call_place_outbound: one call now, same ledger and last-moment checks as campaigns."""

from __future__ import annotations

import uuid

import pytest
import responses
from django.utils import timezone

from calls.campaigns.services.control import outbound_kill_switch_set
from calls.campaigns.services.outbound import call_place_outbound
from calls.enums import AttemptState, DecisionRule
from calls.models import Call, Customer, DialAttempt, DispatchDecision
from tests.calls.campaign_support import FakeVapi
from tests.factories import AssistantFactory, CustomerFactory, PhoneNumberFactory
from voiceops.errors import Conflict, DomainError, InvalidState

pytestmark = pytest.mark.django_db


@pytest.fixture
def vapi():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeVapi(rsps)


@pytest.fixture
def assistant():
    return AssistantFactory(vapi_id=str(uuid.uuid4()), pushed_version=3)


def test_places_call_with_contract_payload_and_links_it(vapi, assistant):
    phone = PhoneNumberFactory()
    call = call_place_outbound(
        assistant=assistant,
        customer_number="(415) 555-0123",
        phone_number=phone,
        variables={"orderNumber": "NW-1"},
        customer_name="Dana",
    )
    (payload,) = vapi.payloads
    assert payload["customer"] == {"number": "+14155550123", "name": "Dana"}
    assert payload["assistantId"] == assistant.vapi_id and payload["phoneNumberId"] == phone.vapi_id
    assert payload["assistantOverrides"] == {"variableValues": {"orderNumber": "NW-1"}}
    assert set(payload) == {"assistantId", "phoneNumberId", "customer", "name", "assistantOverrides"}
    assert call.assistant_version == 3 and call.customer == Customer.objects.get(number="+14155550123")
    assert DialAttempt.objects.get(call=call).state == AttemptState.ACCEPTED


def test_same_idempotency_key_never_dials_twice(vapi, assistant, settings):
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    first = call_place_outbound(assistant=assistant, customer_number="+14155550123", idempotency_key="req-1")
    again = call_place_outbound(assistant=assistant, customer_number="+14155550123", idempotency_key="req-1")
    assert first == again and len(vapi.payloads) == 1
    assert vapi.payloads[0]["phoneNumberId"] == "pn-default"


def test_in_flight_key_conflicts(assistant, settings):
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    DialAttempt.objects.create(
        idempotency_key="single:req-2", number="+14155550123", state=AttemptState.REQUESTING
    )
    with pytest.raises(Conflict):
        call_place_outbound(assistant=assistant, customer_number="+14155550123", idempotency_key="req-2")


def test_do_not_call_and_kill_switch_block_with_stored_decisions(vapi, assistant, settings):
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    customer = CustomerFactory(number="+14155550123", do_not_call=True, do_not_call_at=timezone.now())
    with pytest.raises(DomainError) as exc:
        call_place_outbound(assistant=assistant, customer_number="+14155550123")
    assert exc.value.code == "do_not_call"
    assert DispatchDecision.objects.get(customer=customer).rule == DecisionRule.DO_NOT_CALL
    outbound_kill_switch_set(paused=True, by="ops")
    with pytest.raises(InvalidState):
        call_place_outbound(assistant=assistant, customer_number="+14155550199")
    assert DispatchDecision.objects.filter(rule=DecisionRule.KILL_SWITCH, customer__isnull=False).exists()
    assert vapi.payloads == [] and not Call.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"customer_number": "12"}, "invalid_number"),
        ({"customer_number": "+14155550123", "idempotency_key": ""}, "invalid_idempotency_key"),
        ({"customer_number": "+14155550123", "variables": ["x"]}, "invalid_variables"),
    ],
)
def test_bad_input_is_a_domain_error(assistant, settings, kwargs, code):
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    with pytest.raises(DomainError) as exc:
        call_place_outbound(assistant=assistant, **kwargs)
    assert exc.value.code == code


def test_vapi_refusal_is_a_domain_error(assistant, settings):
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeVapi(rsps, status=400)
        with pytest.raises(DomainError) as exc:
            call_place_outbound(assistant=assistant, customer_number="+14155550123")
    assert exc.value.code == "vapi_rejected"
    assert DialAttempt.objects.get().state == AttemptState.REJECTED
