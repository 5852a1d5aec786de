"""End to end: a caller asks for billing, the simulator plays Vapi's dynamic transfer.

The assistant carries transferCall without fixed destinations (a department is set), so the
simulator sends transfer-destination-request; voiceops picks the billing destination by the
department the caller named, the simulator forwards (status-update forwarding, transfer-update)
and the report lists the transfer. The worker stores every report of it; the outcome is
"transferred", and a transfer the person does not pick up is "transfer-failed", never "busy".
"""

from __future__ import annotations

import pytest

from assistants.models import Assistant, NumberMode, PhoneNumber, TransferDestination
from assistants.routing.hours import WEEKDAYS
from assistants.services import assistant_push
from assistants.services.phone_numbers import phone_number_set_mode
from calls.enums import Outcome
from calls.models import Call
from tests.e2e.test_inbound_routing_e2e import NUMBER, dial, simulator  # noqa: F401 - fixtures used by name
from voiceops.simulator.runner import Simulator
from voiceops.simulator.store import phone_number_id_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
BILLING = "+13125550142"
FRONT_DESK = "sip:frontdesk@pbx.example.com"


def setup_line() -> Assistant:
    assistant = Assistant.objects.create(
        name="E2E transfers",
        first_message="Northwind, hello.",
        end_call_message="Goodbye!",
        server_messages=[
            "status-update",
            "end-of-call-report",
            "tool-calls",
            "transfer-destination-request",
            "transfer-update",
        ],
    )
    TransferDestination.objects.create(
        assistant=assistant,
        position=1,
        kind="sip",
        sip_uri=FRONT_DESK,
        message="One moment.",
        open_hours_only=True,
    )
    TransferDestination.objects.create(
        assistant=assistant,
        position=2,
        number=BILLING,
        department="billing",
        message="Connecting you to billing.",
    )
    assistant_push(assistant=assistant)
    assistant.refresh_from_db()
    phone = PhoneNumber.objects.create(
        number=NUMBER,
        vapi_id=phone_number_id_for(NUMBER),
        provider="vapi",
        opening_hours={day: [["00:00", "24:00"]] for day in WEEKDAYS},
    )
    phone_number_set_mode(phone_number=phone, mode=NumberMode.FIXED, assistant=assistant)
    return assistant


def test_transfer_to_billing_is_chosen_played_and_stored(simulator: Simulator, worker: None) -> None:  # noqa: F811
    assistant = setup_line()
    pushed = simulator.store.get("assistants", assistant.vapi_id)
    assert [t for t in pushed["model"]["tools"] if t["type"] == "transferCall"][0]["destinations"] == []

    played = dial(simulator, "+14155550123", "asks-for-a-person")
    call = Call.objects.get(vapi_id=played["id"])
    assert played["endedReason"] == "assistant-forwarded-call"
    assert call.outcome == Outcome.TRANSFERRED
    sources = {t.source: t for t in call.transfers.all()}
    assert set(sources) == {"request", "forwarding", "transfer-update", "report"}
    assert {t.destination_label for t in sources.values()} == {f"number {BILLING}"}
    assert "department 'billing' asked" in sources["request"].detail
    turns = [text for role, text in call.turns.values_list("role", "text") if role == "assistant"]
    assert "Connecting you to billing." in turns


def test_a_busy_person_is_transfer_failed_not_customer_busy(simulator: Simulator, worker: None) -> None:  # noqa: F811
    setup_line()
    simulator.config.transfer_outcome = "operator-busy"
    played = dial(simulator, "+14155550124", "asks-for-a-person")
    call = Call.objects.get(vapi_id=played["id"])
    assert call.ended_reason == "call.forwarding.operator-busy"
    assert call.outcome == Outcome.TRANSFER_FAILED
