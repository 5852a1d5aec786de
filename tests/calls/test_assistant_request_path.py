"""The assistant-request path (calls/services/assistant_request/): two statements, a complete record.

The statement count is the performance guarantee that a test can hold (timings live in
bench/assistant_request_bench.py): one read and one write, no transaction of our own around them.
These tests run outside a test transaction (``transaction=True``), as the web server does.
"""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from assistants.models import RoutingDecision
from calls.enums import CallStatus, Direction, EventState
from calls.models import Call, Customer, WebhookEvent
from calls.services import assistant_request
from calls.services.answers import NO_ASSISTANT
from tests.calls.test_inbound_routing import BLOCKED, CALLER, TUESDAY_MORNING, TUESDAY_NIGHT, ask, routed  # noqa: F401
from tests.calls.test_webhook_fixtures import INBOUND_CALL_ID
from tests.conftest import load_fixture
from tests.factories import CallFactory, CustomerFactory, ToolInvocationFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def commits(monkeypatch):
    """How many times Django committed a transaction of its own (atomic blocks) during the test."""
    counted: list[int] = []
    wrapper = connections["default"]
    real = wrapper.commit

    def counting():
        counted.append(1)
        return real()

    monkeypatch.setattr(wrapper, "commit", counting)
    return counted


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("known", "desk"),
        ("new", "default"),
        ("blocked", None),
        ("vip at night", "vip"),
    ],
)
def test_an_assistant_request_costs_one_read_and_one_write(routed, vapi_post, commits, who, expected):  # noqa: F811
    caller = BLOCKED if who == "blocked" else CALLER
    if who in ("known", "vip at night"):
        CustomerFactory(number=CALLER, name="Dana", vip=who == "vip at night")
    moment = TUESDAY_NIGHT if who == "vip at night" else TUESDAY_MORNING
    with time_machine.travel(moment, tick=False), CaptureQueriesContext(connection) as captured:
        answer = ask(vapi_post, caller=caller)
    statements = [query["sql"].split(None, 1)[0].upper() for query in captured.captured_queries]
    # The read is a prepared statement (voiceops.sqlbatch): PREPAREd with its first EXECUTE on a
    # connection, in the same round trip.
    assert statements in (["EXECUTE", "WITH"], ["PREPARE", "WITH"]), [q["sql"][:80] for q in captured]
    assert "voiceops_assistant_request_read_" in captured.captured_queries[0]["sql"]
    assert commits == []  # no BEGIN/COMMIT around them: the write is one atomic statement
    if expected is None:
        assert set(answer) == {"error"}
    else:
        assert answer["assistantId"] == routed[expected].vapi_id
    call = Call.objects.get(vapi_id=INBOUND_CALL_ID)
    assert (call.status, call.direction, call.phone_number) == (
        CallStatus.RINGING,
        Direction.INBOUND,
        routed["number"],
    )
    assert call.customer == Customer.objects.get(number=caller)
    assert call.routing.reason and call.routing.refused == (expected is None)
    assert WebhookEvent.objects.get().response == answer


def test_a_new_caller_is_stored_with_its_history_row(routed, vapi_post):  # noqa: F811
    message = load_fixture("assistant-request.json")
    message["message"]["customer"]["name"] = "Ana Ruiz"
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        answer = vapi_post(message).json()
    customer = Customer.objects.get(number=CALLER)
    assert customer.name == "Ana Ruiz"
    assert answer["assistantOverrides"]["variableValues"] == {"customerName": "Ana Ruiz"}
    assert [h.history_type for h in customer.history.all()] == ["+"]


def test_a_redelivery_is_answered_from_the_ledger_and_writes_nothing(routed, vapi_post):  # noqa: F811
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        first = ask(vapi_post)
        routed["number"].routing_rules.all().delete()
        with CaptureQueriesContext(connection) as captured:
            again = ask(vapi_post)
    assert again == first
    assert len(captured.captured_queries) == 3  # read, write (nothing new), the stored answer
    assert WebhookEvent.objects.count() == 1 and RoutingDecision.objects.count() == 1


def test_a_call_stored_before_its_assistant_request_is_filled_never_overwritten(routed, vapi_post):  # noqa: F811
    early = CallFactory(
        vapi_id=INBOUND_CALL_ID,
        direction=Direction.INBOUND,
        status=CallStatus.IN_PROGRESS,
        assistant=None,
        customer=None,
        customer_number="+16175550100",
    )
    with time_machine.travel(TUESDAY_NIGHT, tick=False):
        answer = ask(vapi_post)
    call = Call.objects.get(pk=early.pk)
    assert call.status == CallStatus.IN_PROGRESS  # never back to ringing
    assert call.customer_number == "+16175550100"  # kept
    assert call.assistant == routed["night"] and call.vapi_assistant_id == answer["assistantId"]
    assert call.phone_number == routed["number"] and call.customer is not None
    assert call.routing.rule_name == "After hours"


def test_tool_records_made_before_the_call_row_are_linked_to_it(routed, vapi_post):  # noqa: F811
    invocation = ToolInvocationFactory(vapi_call_id=INBOUND_CALL_ID, call=None)
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        ask(vapi_post)
    invocation.refresh_from_db()
    assert invocation.call == Call.objects.get(vapi_id=INBOUND_CALL_ID)


def test_a_failing_choice_is_a_spoken_refusal_and_the_ledger_row_is_kept(routed, vapi_post, monkeypatch):  # noqa: F811
    def explode(**kwargs):
        raise RuntimeError("rules on fire")

    monkeypatch.setattr(assistant_request, "route_choose", explode)
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        answer = ask(vapi_post)
    assert answer == {"error": NO_ASSISTANT}
    event = WebhookEvent.objects.get()
    assert (event.response, event.state) == (answer, EventState.PROCESSED)


def test_an_unknown_number_is_refused_without_a_call(vapi_post):
    answer = ask(vapi_post)
    assert set(answer) == {"error"} and not Call.objects.exists()
    assert WebhookEvent.objects.get().response == answer


def test_odd_call_fields_never_cost_the_caller_the_assistant(routed, vapi_post):  # noqa: F811
    message = load_fixture("assistant-request.json")
    message["message"]["call"].update({"assistantId": "x" * 500, "startedAt": "yesterday", "type": 7})
    message["message"]["customer"]["name"] = "Ana\x00 " + "R" * 500
    with time_machine.travel(TUESDAY_MORNING, tick=False):
        answer = vapi_post(message).json()
    assert answer["assistantId"] == routed["default"].vapi_id
    call = Call.objects.get(vapi_id=INBOUND_CALL_ID)
    assert call.started_at is None and call.direction == Direction.INBOUND
    assert Customer.objects.get(number=CALLER).name.startswith("Ana RRR")
