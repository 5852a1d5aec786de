"""Identity bound to the line: a caller can read or change only their own records.

Everything goes through ``POST /webhooks/vapi/`` the way Vapi sends it. The victim is a
customer with a name, a number, two upcoming appointments and confirmation codes; the
attacker calls from another number (or from a web call that claims the victim's number)
and names the victim in every way a model might pass on.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from typing import Any

import pytest
from django.test import Client

from calls.models import Customer
from tests.calls.conftest import post
from tests.factories import AppointmentFactory, CustomerFactory
from tests.logcapture import capture_logs
from tests.tools.conftest import CALLER, at, tool_call, tool_message
from tests.tools.contract import assert_tool_answer_shape
from tools.models import Appointment, AppointmentStatus, ToolInvocation, ToolOutcome
from tools.registry import all_specs

pytestmark = pytest.mark.django_db

VICTIM_NUMBER = "+14155550999"
VICTIM_NAME = "Victoria Sentinel"
VICTIM_CODES = ("VQ7K3P", "VQ7K3R")
ATTACKER_NAME = "Mallory Caller"


def spelled(code: str) -> str:
    return " ".join(code)


# Anything of the victim's that must never reach the attacker's ears.
SECRETS = (
    VICTIM_NAME,
    "Victoria",
    "Sentinel",
    VICTIM_NUMBER,
    "4155550999",
    "555-0999",
    *VICTIM_CODES,
    *(spelled(code) for code in VICTIM_CODES),
)


@pytest.fixture
def victim(resource, monday):
    customer = CustomerFactory(number=VICTIM_NUMBER, name=VICTIM_NAME, time_zone="America/New_York")
    for code, hhmm in zip(VICTIM_CODES, ("11:00", "15:00"), strict=True):
        AppointmentFactory(
            resource=resource,
            customer=customer,
            starts_at=at(monday, hhmm),
            ends_at=at(monday, hhmm) + dt.timedelta(minutes=30),
            confirmation_code=code,
        )
    return customer


@pytest.fixture
def attacker(db):
    return CustomerFactory(number=CALLER, name=ATTACKER_NAME)


def victim_state(victim: Customer) -> dict[str, Any]:
    victim.refresh_from_db()
    return {
        "do_not_call": victim.do_not_call,
        "name": victim.name,
        "appointments": sorted(
            Appointment.objects.filter(customer=victim).values_list(
                "confirmation_code", "status", "starts_at", "ends_at", "resource_id"
            )
        ),
    }


def line(kind: str) -> dict[str, Any]:
    """How the attacker is connected: their own phone, a web call, a web call claiming the victim."""
    if kind == "phone":
        return {"number": CALLER}
    if kind == "web":
        return {"number": None, "call_type": "webCall"}
    if kind == "web-spoofing-victim":
        return {"number": VICTIM_NUMBER, "call_type": "webCall"}
    raise ValueError(kind)


def send(client: Client, *calls: dict, number: str | None = CALLER, call_type: str = "", vapi_call_id=None):
    message = tool_message(*calls, number=number, vapi_call_id=vapi_call_id)
    if call_type:
        message["call"]["type"] = call_type
    response = post(client, {"message": message})
    assert response.status_code == 200
    body = response.json()
    assert_tool_answer_shape(body, message)
    return body["results"]


def spoken(results: list[dict[str, str]]) -> list[str]:
    return [r.get("result") or r.get("error") or "" for r in results]


def assert_nothing_of_the_victim(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text)


def test_the_attackers_call_end_to_end(client, victim, attacker, monday):
    """One call: every trick in turn. Nothing of the victim is heard, nothing of theirs changes."""
    before = victim_state(victim)
    vapi_call_id = str(uuid.uuid4())
    code = VICTIM_CODES[0]
    tuesday = monday + dt.timedelta(days=1)
    steps = [
        tool_call("get_customer_info", {"customer_id": victim.pk}),
        tool_call("get_customer_info", {"customer_id": str(victim.pk), "number": VICTIM_NUMBER}),
        tool_call("cancel_appointment", {"confirmation_code": code}),
        tool_call("cancel_appointment", {"confirmation_code": spelled(code).lower()}),
        tool_call("cancel_appointment", {"confirmation_code": code, "booked_from_number": CALLER}),
        tool_call("cancel_appointment", {"confirmation_code": code, "customer_id": victim.pk}),
        tool_call(
            "reschedule_appointment",
            {"confirmation_code": code, "date": tuesday.isoformat(), "time": "13:00"},
        ),
        tool_call("opt_out", {"customer_id": victim.pk, "reason": "they asked me to"}),
        tool_call(
            "book_appointment",
            {"date": monday.isoformat(), "time": "10:00", "customer_id": victim.pk, "name": VICTIM_NAME},
        ),
        tool_call("check_availability", {"customer_id": victim.pk, "date": monday.isoformat()}),
    ]
    texts: list[str] = []
    for step in steps:  # one message each, as the model would ask, all in the same call
        texts += spoken(send(client, step, vapi_call_id=vapi_call_id))
    legacy = {
        "message": {
            **tool_message(number=CALLER, vapi_call_id=vapi_call_id),
            "type": "function-call",
            "functionCall": {"name": "get_customer_info", "parameters": {"customer_id": victim.pk}},
        }
    }
    legacy["message"].pop("toolCallList")
    response = post(client, legacy)
    assert response.status_code == 200 and set(response.json()) == {"result"}
    texts.append(response.json()["result"])

    assert_nothing_of_the_victim(texts)
    assert victim_state(victim) == before
    # What the attacker did do, they did to themselves: the booking and the opt-out are theirs.
    assert Appointment.objects.filter(customer=attacker).count() == 1
    attacker.refresh_from_db()
    assert attacker.do_not_call and attacker.name == ATTACKER_NAME
    refusals = ToolInvocation.objects.filter(vapi_call_id=vapi_call_id, name="cancel_appointment")
    assert set(refusals.values_list("outcome", flat=True)) == {ToolOutcome.REFUSED}


# Valid arguments for every tool; the sweep fails when a new tool is not listed here.
def base_arguments(monday) -> dict[str, dict[str, Any]]:
    return {
        "get_customer_info": {},
        "check_availability": {"date": monday.isoformat()},
        "book_appointment": {"date": monday.isoformat(), "time": "10:00"},
        "cancel_appointment": {"confirmation_code": VICTIM_CODES[0]},
        "reschedule_appointment": {
            "confirmation_code": VICTIM_CODES[1],
            "date": monday.isoformat(),
            "time": "14:00",
        },
        "opt_out": {"reason": "stop"},
    }


def naming_the_victim(victim: Customer) -> list[dict[str, Any]]:
    """The ways a model might name another customer, honest mistake or prompt injection."""
    return [
        {},
        {"customer_id": victim.pk},
        {"customer_id": str(victim.pk)},
        {"customer": VICTIM_NAME},
        {"name": VICTIM_NAME},
        {"number": VICTIM_NUMBER},
        {"phone_number": VICTIM_NUMBER},
        {"customer_number": VICTIM_NUMBER},
        {"caller_number": VICTIM_NUMBER},
        {"confirmation_code": VICTIM_CODES[0]},
        {"confirmation_code": spelled(VICTIM_CODES[1]).lower()},
        {"confirmation_code": VICTIM_CODES[0], "booked_from_number": CALLER},
        {"confirmation_code": VICTIM_CODES[1], "booked_from_number": "+14155550998"},
    ]


def test_every_tool_with_arguments_naming_another_customer(client, victim, attacker, monday):
    base = base_arguments(monday)
    # Every shipped tool (tests register throwaway ones elsewhere; those are not the product's).
    names = [spec.name for spec in all_specs() if spec.handler.__module__.startswith("tools.builtins")]
    assert set(names) == set(base), f"add the new tool(s) to the sweep: {set(names) - set(base)}"
    before = victim_state(victim)
    texts: list[str] = []
    kinds = ("phone", "web", "web-spoofing-victim")
    for name, extra, kind in itertools.product(names, naming_the_victim(victim), kinds):
        results = send(client, tool_call(name, {**base[name], **extra}), **line(kind))
        texts += spoken(results)
        assert victim_state(victim) == before, (name, extra, kind)
    assert_nothing_of_the_victim(texts)
    assert (
        not Appointment.objects.filter(customer=victim).exclude(confirmation_code__in=VICTIM_CODES).exists()
    )
    # A web call acts on nobody: everything booked or opted out came from the attacker's phone.
    assert set(Appointment.objects.values_list("customer__number", flat=True)) == {VICTIM_NUMBER, CALLER}
    assert list(Customer.objects.filter(do_not_call=True).values_list("number", flat=True)) == [CALLER]


def test_a_web_call_claiming_the_victims_number_sees_nothing(client, victim):
    (result,) = send(client, tool_call("get_customer_info", {}), number=VICTIM_NUMBER, call_type="webCall")
    assert result["error"] == "I can't see a phone number for this call, so I can't look up your details."


def test_the_owner_on_their_own_line_acts_on_their_appointment(client, victim):
    (result,) = send(
        client, tool_call("cancel_appointment", {"confirmation_code": VICTIM_CODES[0]}), number=VICTIM_NUMBER
    )
    assert result["result"].startswith("Cancelled the appointment with Dr. Patel")
    assert Appointment.objects.get(confirmation_code=VICTIM_CODES[0]).status == AppointmentStatus.CANCELLED


def test_the_verification_step_code_and_booked_from_number_unlocks_one_appointment(client, victim):
    """From another phone (or a web call) the owner says the code and the number it was booked from."""
    said = "(415) 555-0999"  # as spoken, read in the number's own country
    for kind, code in (("phone", VICTIM_CODES[0]), ("web", VICTIM_CODES[1])):
        (result,) = send(
            client,
            tool_call("cancel_appointment", {"confirmation_code": code, "booked_from_number": said}),
            **line(kind),
        )
        assert result["result"].startswith("Cancelled the appointment with Dr. Patel"), result
        assert VICTIM_NAME not in result["result"]
        assert Appointment.objects.get(confirmation_code=code).status == AppointmentStatus.CANCELLED


def test_a_refusal_does_not_tell_whether_the_code_exists(client, victim):
    """A stranger's code and a made-up code get the same sentence (no oracle for guessing codes)."""
    with capture_logs() as captured:
        (theirs,) = send(client, tool_call("cancel_appointment", {"confirmation_code": VICTIM_CODES[0]}))
        (made_up,) = send(client, tool_call("cancel_appointment", {"confirmation_code": "ZZZZ99"}))
    assert theirs["error"] == made_up["error"]
    outcomes = dict(ToolInvocation.objects.values_list("tool_call_id", "outcome"))
    assert outcomes[theirs["toolCallId"]] == ToolOutcome.REFUSED
    assert outcomes[made_up["toolCallId"]] == ToolOutcome.NOT_FOUND
    # Ops see the attempt on someone else's appointment, without the code or any number.
    (event,) = captured.events("tool_refused_not_the_callers")
    assert event["tool_call_id"] == theirs["toolCallId"]
    assert not any(secret in json.dumps(event) for secret in SECRETS + (CALLER,))
