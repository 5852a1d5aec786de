"""End to end: simulator + voiceops web (live server) + a Celery worker on real Redis, inbound.

A routed number (no assistant in the simulator, our server URL set by voiceops's own PATCH)
takes three calls: a known customer in opening hours gets the front desk, an unknown caller
after hours gets the after-hours assistant, a blocked caller is refused with a spoken error
and never connected. The call page and the API name the rule that matched.

The clock is controlled, not guessed: "in hours" uses opening hours of 00:00-24:00 on every
day, "after hours" a one-hour window that starts two hours after the current local hour, so
each case holds at any hour on any date.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from assistants.models import (
    Assistant,
    NumberMode,
    PhoneNumber,
    RoutingRule,
    RuleAction,
    RuleCaller,
    RuleWhen,
    VapiRoute,
)
from assistants.routing.hours import WEEKDAYS
from assistants.services import assistant_push
from assistants.services.phone_numbers import phone_number_set_mode
from calls.models import Call, Customer
from voiceops.simulator.runner import Simulator, running_simulator
from voiceops.simulator.store import phone_number_id_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SECRET = "e2e-webhook-secret-inbound"
NUMBER = "+12125550100"
KNOWN, UNKNOWN, BLOCKED = "+14155550101", "+14155550177", "+19005550123"
ALL_DAY = {day: [["00:00", "24:00"]] for day in WEEKDAYS}


def closed_now() -> dict[str, list[list[str]]]:
    """Open only for one hour that starts two hours from now (UTC), so now is after hours."""
    hour = dt.datetime.now(dt.UTC).hour
    window = [f"{hour + 2:02d}:00", f"{hour + 3:02d}:00"] if hour < 20 else ["01:00", "02:00"]
    return {day: [window] for day in WEEKDAYS}


@pytest.fixture
def simulator(live_server: Any, settings: Any) -> Iterator[Simulator]:
    settings.PUBLIC_BASE_URL = live_server.url
    settings.VAPI_WEBHOOK_SECRET = [SECRET]
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with running_simulator(time_factor=60, seed=1, phone_numbers=[NUMBER]) as sim:
        settings.VAPI_BASE_URL = sim.base_url
        yield sim


def wait_for(predicate: Any, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def dial(sim: Simulator, caller: str, scenario: str = "hangs-up") -> dict[str, Any]:
    placed = sim.simulate_inbound(from_number=caller, to_number=NUMBER, scenario=scenario)
    assert sim.wait_for_calls(timeout=60, call_ids=[placed["id"]])
    wait_for(
        lambda: Call.objects.filter(vapi_id=placed["id"], status="ended", has_final_report=True).exists(),
        seconds=60,
        what="the worker to apply the end-of-call report",
    )
    return sim.store.get("calls", placed["id"]) or {}


def test_routed_number_answers_by_rules(simulator: Simulator, worker: None, settings: Any) -> None:
    desk = Assistant.objects.create(name="E2E front desk", first_message="Front desk, hello.")
    night = Assistant.objects.create(name="E2E after hours", first_message="We are closed, hello.")
    for assistant in (desk, night):
        assistant_push(assistant=assistant)
        assistant.refresh_from_db()
    phone = PhoneNumber.objects.create(
        number=NUMBER,
        vapi_id=phone_number_id_for(NUMBER),
        provider="vapi",
        time_zone="UTC",
        opening_hours=ALL_DAY,
    )
    RoutingRule.objects.create(
        phone_number=phone, position=1, name="Blocked premium numbers", caller_numbers=["+1900"],
        action=RuleAction.REFUSE, refusal_message="This line does not take your call. Goodbye.",
    )  # fmt: skip
    RoutingRule.objects.create(
        phone_number=phone, position=2, name="After hours", when=RuleWhen.CLOSED, assistant=night
    )
    RoutingRule.objects.create(
        phone_number=phone, position=3, name="Known callers in hours", when=RuleWhen.OPEN,
        caller=RuleCaller.KNOWN, assistant=desk,
    )  # fmt: skip
    Customer.objects.create(number=KNOWN, name="Dana Whitfield")

    # voiceops makes the number routed in the simulator: no assistant there, our server URL set.
    phone = phone_number_set_mode(phone_number=phone, mode=NumberMode.ROUTED, assistant=desk)
    in_sim = simulator.store.get("phone_numbers", phone.vapi_id)
    assert (
        in_sim["assistantId"] is None
        and in_sim["server"]["url"] == f"{live_server_url(settings)}/webhooks/vapi/"
    )
    assert phone.vapi_mode == VapiRoute.ROUTED and phone.vapi_differs == ""

    known = dial(simulator, KNOWN)
    phone.opening_hours = closed_now()
    phone.save()
    unknown = dial(simulator, UNKNOWN)
    blocked = dial(simulator, BLOCKED)

    assert known["assistantId"] == desk.vapi_id and known["endedReason"] == "customer-ended-call"
    assert known["assistantOverrides"]["variableValues"]["customerName"] == "Dana Whitfield"
    assert unknown["assistantId"] == night.vapi_id
    assert blocked["endedReason"] == "assistant-request-returned-error" and "assistantId" not in blocked
    answered = [d.response for d in simulator.deliveries(blocked["id"]) if d.type == "assistant-request"]
    assert answered == [{"error": "This line does not take your call. Goodbye."}]

    calls = {c.customer_number: c for c in Call.objects.select_related("routing", "assistant")}
    assert (calls[KNOWN].assistant, calls[KNOWN].routing.rule_name) == (desk, "Known callers in hours")
    assert (calls[UNKNOWN].assistant, calls[UNKNOWN].routing.rule_name) == (night, "After hours")
    assert "outside the opening hours" in calls[UNKNOWN].routing.reason
    assert calls[BLOCKED].routing.refused and calls[BLOCKED].assistant is None
    assert calls[BLOCKED].routing.rule_name == "Blocked premium numbers"

    # The call page names the rule and says why.
    staff = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw")
    browser = Client()
    browser.force_login(staff)
    page = browser.get(reverse("admin:calls_call_change", args=[calls[UNKNOWN].pk])).content.decode()
    assert "Rule &#x27;After hours&#x27;" in page and "outside the opening hours" in page


def live_server_url(settings: Any) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/")
