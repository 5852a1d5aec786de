"""assistant-request on a routed number: ordered rules, first match wins, the decision on the call.

The clock is frozen (time-machine) at moments chosen in the number's own time zone, so
"opening hours" and "after hours" mean the same on any machine, date or hour.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine

from assistants.models import Closure, NumberMode, RoutingRule, RuleAction, RuleCaller, RuleWhen
from calls.models import Call
from tests.api.conftest import client_with  # noqa: F401 - fixture
from tests.calls.test_webhook_fixtures import INBOUND_CALL_ID, PHONE_VAPI_ID
from tests.conftest import load_fixture
from tests.factories import AssistantFactory, CustomerFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

NY = zoneinfo.ZoneInfo("America/New_York")
TUESDAY_MORNING = dt.datetime(2026, 3, 10, 10, 15, tzinfo=NY)  # open 09:00-17:00
TUESDAY_NIGHT = dt.datetime(2026, 3, 10, 22, 30, tzinfo=NY)
CALLER = "+16175550146"  # the fixture's caller
BLOCKED = "+16175550199"


@pytest.fixture
def routed():
    desk = AssistantFactory(name="Front desk", vapi_id="11111111-1111-4111-8111-111111111111")
    night = AssistantFactory(name="After hours", vapi_id="22222222-2222-4222-8222-222222222222")
    vip = AssistantFactory(name="VIP desk", vapi_id="33333333-3333-4333-8333-333333333333")
    fallback = AssistantFactory(name="Default", vapi_id="44444444-4444-4444-8444-444444444444")
    number = PhoneNumberFactory(
        vapi_id=PHONE_VAPI_ID,
        number="+12125550187",
        mode=NumberMode.ROUTED,
        assistant=fallback,
        time_zone="America/New_York",
    )
    rules = [
        dict(
            name="Blocked callers",
            caller_numbers=["+1617555019"],
            action=RuleAction.REFUSE,
            refusal_message="We cannot take your call. Goodbye.",
        ),
        dict(name="VIPs any time", caller=RuleCaller.VIP, assistant=vip),
        dict(name="After hours", when=RuleWhen.CLOSED, assistant=night),
        dict(name="Known callers in hours", when=RuleWhen.OPEN, caller=RuleCaller.KNOWN, assistant=desk),
    ]
    for position, rule in enumerate(rules, start=1):
        RoutingRule.objects.create(phone_number=number, position=position, **rule)
    return {"number": number, "desk": desk, "night": night, "vip": vip, "default": fallback}


def ask(vapi_post, caller: str = CALLER) -> dict:
    message = load_fixture("assistant-request.json")
    message["message"]["customer"]["number"] = caller
    message["message"]["call"]["customer"]["number"] = caller
    response = vapi_post(message)
    assert response.status_code == 200
    return response.json()


def decision():
    return Call.objects.select_related("routing").get(vapi_id=INBOUND_CALL_ID).routing


def test_known_caller_in_opening_hours_gets_the_front_desk(routed, vapi_post):
    CustomerFactory(number=CALLER, name="Dana Whitfield", email="", external_id="")
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        answer = ask(vapi_post)
    assert answer == {
        "assistantId": routed["desk"].vapi_id,
        "assistantOverrides": {
            "variableValues": {"customerName": "Dana Whitfield", "customerTimeZone": "America/New_York"}
        },
    }
    made = decision()
    assert (
        made.rule_name == "Known callers in hours" and made.assistant == routed["desk"] and not made.refused
    )
    assert "open: Tue 10:15 America/New_York within 09:00-17:00" in made.reason
    assert "known customer" in made.reason
    assert Call.objects.get(vapi_id=INBOUND_CALL_ID).assistant == routed["desk"]


def test_unknown_caller_in_hours_falls_to_the_default_and_is_remembered_as_bare(routed, vapi_post):
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        answer = ask(vapi_post)
    assert answer["assistantId"] == routed["default"].vapi_id
    assert answer["assistantOverrides"]["variableValues"] == {"customerName": "there"}
    assert decision().rule is None and decision().reason == "No rule matched: the number's default assistant"


def test_after_hours_caller_gets_the_after_hours_assistant(routed, vapi_post):
    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        answer = ask(vapi_post)
    assert answer["assistantId"] == routed["night"].vapi_id
    assert "closed: Tue 22:30 America/New_York is outside the opening hours" in decision().reason


def test_a_closure_counts_as_after_hours(routed, vapi_post):
    Closure.objects.create(
        phone_number=routed["number"],
        starts_on=dt.date(2026, 3, 10),
        ends_on=dt.date(2026, 3, 10),
        name="Staff day",
    )
    CustomerFactory(number=CALLER, name="Dana")
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        answer = ask(vapi_post)
    assert answer["assistantId"] == routed["night"].vapi_id
    assert "closure Staff day" in decision().reason


def test_vip_goes_first_whatever_the_hour(routed, vapi_post):
    CustomerFactory(number=CALLER, name="Dana", vip=True)
    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        assert ask(vapi_post)["assistantId"] == routed["vip"].vapi_id
    assert decision().rule_name == "VIPs any time"


def test_blocked_caller_is_refused_with_a_spoken_error(routed, vapi_post):
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        answer = ask(vapi_post, caller=BLOCKED)
    assert answer == {"error": "We cannot take your call. Goodbye."}
    made = decision()
    assert made.refused and made.assistant is None and made.rule_name == "Blocked callers"
    assert "caller number starts with +1617555019" in made.reason
    assert Call.objects.get(vapi_id=INBOUND_CALL_ID).assistant is None


def test_disabled_rules_are_skipped_and_no_default_is_a_refusal(routed, vapi_post):
    number = routed["number"]
    number.routing_rules.update(enabled=False)
    number.assistant = None
    number.save()
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        answer = ask(vapi_post, caller=BLOCKED)
    assert set(answer) == {"error"}
    assert decision().refused and "no default assistant" in decision().reason


def test_withheld_number_is_an_unknown_caller(routed, vapi_post):
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        answer = ask(vapi_post, caller="anonymous")
    assert answer["assistantId"] == routed["default"].vapi_id


def test_routing_is_in_the_api_call_resource(routed, vapi_post, client_with):  # noqa: F811
    from voiceops.api.scopes import Scope

    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        ask(vapi_post)
    call = Call.objects.get(vapi_id=INBOUND_CALL_ID)
    body = client_with(Scope.READ).get(f"/api/v1/calls/{call.pk}/").json()
    assert body["routing"]["rule_name"] == "After hours"
    assert body["routing"]["assistant"] == routed["night"].pk and body["routing"]["refused"] is False
    assert "outside the opening hours" in body["routing"]["reason"]
