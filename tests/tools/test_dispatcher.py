"""The dispatcher: contract shape, lenient parsing, errors as answers, idempotency, deadlines."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest
from django.db import connection
from rest_framework import serializers

from tests.conftest import FIXTURES, load_fixture
from tests.factories import CallFactory, ToolFactory
from tests.tools.conftest import tool_call, tool_message
from tests.tools.contract import assert_tool_answer_shape
from tools.dispatcher import caller_number, parse_tool_call, tool_calls_answer
from tools.execution.types import APOLOGY, HOLDING
from tools.models import InvocationState, ToolInvocation
from tools.registry import register, unregister

pytestmark = pytest.mark.django_db

RUNS: list[dict] = []


class EchoArgs(serializers.Serializer):
    text = serializers.CharField(max_length=50, error_messages={"required": "I need the text to echo."})
    times = serializers.IntegerField(required=False, default=1, min_value=1, max_value=3)


class SleepArgs(serializers.Serializer):
    seconds = serializers.FloatField()
    how = serializers.ChoiceField(choices=["db", "python"], default="db")


@pytest.fixture(autouse=True)
def test_tools():
    """Throwaway tools that record every run, so tests can count side effects."""
    RUNS.clear()

    def echo(ctx, args):
        RUNS.append({"tool": "echo_tool", "id": ctx.tool_call_id})
        return {"echo": args["text"] * args["times"], "caller": ctx.caller_number}

    def explode(ctx, args):
        RUNS.append({"tool": "explode_tool"})
        raise RuntimeError("boom")

    def sleepy(ctx, args):
        import time

        from calls.models import Customer

        RUNS.append({"tool": "sleep_tool", "id": ctx.tool_call_id})
        Customer.objects.create(
            number=f"+1202555{len(RUNS) % 10000:04d}", name=f"side effect {ctx.tool_call_id}"
        )
        if args["how"] == "db":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(%s)", [args["seconds"]])
        else:
            time.sleep(args["seconds"])
            ctx.check_deadline()
        return "slept well"

    register(name="echo_tool", description="Echo.", arguments=EchoArgs)(echo)
    register(name="explode_tool", description="Fails.", arguments=EchoArgs)(explode)
    register(name="sleep_tool", description="Sleeps.", arguments=SleepArgs)(sleepy)
    yield
    for name in ("echo_tool", "explode_tool", "sleep_tool"):
        unregister(name)


def answer(*calls, **kwargs):
    """One tool-calls message; repeats land in the same Vapi call unless a test says otherwise."""
    kwargs.setdefault("vapi_call_id", "vapi-dispatcher-test")
    message = tool_message(*calls, **kwargs)
    body = tool_calls_answer(message=message, event_id=None)
    assert_tool_answer_shape(body, message)
    return body["results"]


# --- the contract's fixtures ----------------------------------------------------------------


def test_the_contract_fixture_gets_one_answer_per_call_in_order():
    message = load_fixture("tool-calls.json")["message"]
    body = tool_calls_answer(message=message, event_id=7)
    assert_tool_answer_shape(body, message)
    # Neither tool exists here: both are answered with an error string, not dropped.
    assert [r["toolCallId"] for r in body["results"]] == [c["id"] for c in message["toolCallList"]]
    assert all("error" in r and "does not exist" in r["error"] for r in body["results"])


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (FIXTURES / "responses").glob("response-tool-calls*.json"))
)
def test_our_checker_accepts_the_contract_response_fixtures(name):
    """The shape checker itself agrees with Vapi's documented answers."""
    body = load_fixture(f"responses/{name}")
    message = load_fixture("tool-calls.json")["message"]
    assert_tool_answer_shape(body, message)


def test_every_webhook_fixture_with_tool_calls_is_answered_in_shape():
    for path in sorted(Path(FIXTURES).glob("*.json")):
        data = json.loads(path.read_text())
        message = data.get("message") if isinstance(data, dict) else None
        if isinstance(message, dict) and message.get("type") == "tool-calls":
            body = tool_calls_answer(message=message, event_id=None)
            assert_tool_answer_shape(body, message)


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["function", "top-level", "parameters", "function-parameters"])
def test_lenient_shapes_reach_the_handler(shape):
    (result,) = answer(tool_call("echo_tool", {"text": "hi", "times": 2}, shape=shape))
    assert json.loads(result["result"]) == {"echo": "hihi", "caller": "+14155550123"}


def test_arguments_as_a_json_string():
    (result,) = answer(tool_call("echo_tool", json.dumps({"text": "ünïcødé ☎"})))
    assert json.loads(result["result"])["echo"] == "ünïcødé ☎"


def test_arguments_that_are_not_json_get_a_speakable_error():
    (result,) = answer(tool_call("echo_tool", "{text: oops"))
    assert result["error"] == "I couldn't read the details for that request. Please try again."
    assert not RUNS


def test_arguments_that_are_a_list_get_an_error():
    (result,) = answer(tool_call("echo_tool", ["hi"]))
    assert "expected form" in result["error"]


def test_missing_arguments_fail_validation_with_the_fields_sentence():
    (result,) = answer(tool_call("echo_tool", None))
    assert result["error"] == "I need the text to echo."


def test_generic_validation_messages_become_sentences():
    (result,) = answer(tool_call("echo_tool", {"text": "x", "times": 7}))
    assert result["error"] == "Ensure this value is less than or equal to 3."


def test_several_calls_are_answered_in_order_with_mixed_outcomes():
    results = answer(
        tool_call("echo_tool", {"text": "a"}),
        tool_call("no_such_tool", {}),
        tool_call("explode_tool", {"text": "b"}),
        tool_call("echo_tool", {"text": "c"}),
    )
    assert [("result" in r) for r in results] == [True, False, False, True]
    assert json.loads(results[3]["result"])["echo"] == "c"


def test_a_call_without_an_id_is_answered_but_not_recorded():
    message = tool_message(
        {"type": "function", "function": {"name": "echo_tool", "arguments": {"text": "x"}}}
    )
    body = tool_calls_answer(message=message, event_id=None)
    assert body["results"][0]["toolCallId"] == ""
    assert "no id" in body["results"][0]["error"]
    assert not ToolInvocation.objects.exists()


def test_garbage_entries_and_messages_never_raise():
    message = tool_message()
    message["toolCallList"] = ["nonsense", None, 3, {"id": "x1"}]
    body = tool_calls_answer(message=message, event_id=None)
    assert len(body["results"]) == 4
    assert all("error" in r for r in body["results"])
    assert tool_calls_answer(message={"type": "tool-calls"}, event_id=None) == {"results": []}
    assert tool_calls_answer(message={"toolCallList": "nope"}, event_id=None) == {"results": []}


def test_tool_with_tool_call_list_alone_is_understood():
    message = load_fixture("tool-calls.json")["message"]
    message.pop("toolCallList")
    body = tool_calls_answer(message=message, event_id=None)
    assert [r["toolCallId"] for r in body["results"]] == [
        "call_Q7xW2mL9kP4rT8vN1bH6cJ3d",
        "call_Z3nB8vC5xM1qW7eR4tY9uI2o",
    ]


def test_parse_prefers_function_fields():
    parsed = parse_tool_call({"id": 5, "name": "outer", "function": {"name": "inner", "arguments": "{}"}})
    assert (parsed.tool_call_id, parsed.name, parsed.arguments) == ("5", "inner", {})


@pytest.mark.parametrize(
    "customer,call_customer,expected",
    [
        ({"number": "+14155550123"}, None, "+14155550123"),
        (None, {"number": "+442071838750"}, "+442071838750"),
        ({"number": "(415) 555-0199"}, None, "+14155550199"),
        ({"number": "not a number"}, {"number": "+14155550100"}, "+14155550100"),
        (None, None, ""),
    ],
)
def test_caller_number_comes_from_customer_or_call(customer, call_customer, expected):
    message = {"customer": customer, "call": {"customer": call_customer} if call_customer else {}}
    assert caller_number(message) == expected


@pytest.mark.parametrize(
    "call_type", ["webCall", "vapi.websocketCall", {"type": "inboundPhoneCall"}, ["x"], 7]
)
def test_a_web_call_or_an_unreadable_call_type_has_no_caller(call_type):
    """Found by the fuzz: a dict or list here raised TypeError and the caller heard an apology."""
    message = {"customer": {"number": "+14155550123"}, "call": {"type": call_type}}
    assert caller_number(message) == ""


# --- availability of tools -------------------------------------------------------------------


def test_unknown_tool_is_an_error_result_and_recorded():
    (result,) = answer(tool_call("launch_rockets", {"now": True}))
    assert result["error"] == "I can't do that: the tool launch_rockets does not exist."
    row = ToolInvocation.objects.get(tool_call_id=result["toolCallId"])
    assert (row.state, row.arguments) == (InvocationState.FAILED, {"now": True})


def test_disabled_tool_is_an_error_result_and_never_runs():
    ToolFactory(name="echo_tool", enabled=False)
    (result,) = answer(tool_call("echo_tool", {"text": "x"}))
    assert result["error"] == "I can't do that right now: the tool echo_tool is switched off."
    assert not RUNS


def test_handler_exception_is_an_apology_logged_with_call_id_and_traceback(caplog):
    caplog.set_level(logging.ERROR, logger="tools.execution")
    (result,) = answer(tool_call("explode_tool", {"text": "x"}), vapi_call_id="vapi-call-77")
    assert result["error"] == APOLOGY
    (record,) = [
        r for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == "tool_handler_failed"
    ]
    assert record.msg["tool_call_id"] == result["toolCallId"]
    assert record.msg["vapi_call_id"] == "vapi-call-77"
    assert record.exc_info and record.exc_info[0] is RuntimeError
    assert ToolInvocation.objects.get(tool_call_id=result["toolCallId"]).state == InvocationState.FAILED


def test_handler_writes_are_rolled_back_when_it_fails():
    from calls.models import Customer

    def half_then_fail(ctx, args):
        Customer.objects.create(number="+12025550999", name="half written")
        raise ValueError("after the write")

    register(name="half_tool", description="x", arguments=EchoArgs)(half_then_fail)
    try:
        (result,) = answer(tool_call("half_tool", {"text": "x"}))
    finally:
        unregister("half_tool")
    assert result["error"] == APOLOGY
    assert not Customer.objects.filter(number="+12025550999").exists()
    assert ToolInvocation.objects.filter(tool_call_id=result["toolCallId"]).exists()


# --- idempotency -----------------------------------------------------------------------------


def test_invocation_records_arguments_result_latency_and_call():
    call = CallFactory()
    (result,) = answer(tool_call("echo_tool", {"text": "rec"}), vapi_call_id=call.vapi_id)
    row = ToolInvocation.objects.get(tool_call_id=result["toolCallId"])
    assert row.state == InvocationState.SUCCEEDED
    assert row.arguments == {"text": "rec"}
    assert row.result == result["result"]
    assert row.latency_ms is not None and row.latency_ms >= 0
    assert row.call_id == call.pk and row.vapi_call_id == call.vapi_id
    assert row.completed_at is not None


def test_same_tool_call_id_returns_the_recorded_answer_without_running_again():
    item = tool_call("echo_tool", {"text": "once"})
    first = answer(item)
    second = answer(item)
    assert first == second
    assert len(RUNS) == 1
    assert ToolInvocation.objects.count() == 1


def test_a_repeated_failure_is_also_replayed_not_rerun():
    item = tool_call("explode_tool", {"text": "x"})
    assert answer(item) == answer(item)
    assert len(RUNS) == 1


# --- deadlines --------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["db", "python"])
def test_deadline_gives_a_holding_answer_and_a_worker_finishes(how, django_capture_on_commit_callbacks):
    ToolFactory(name="sleep_tool", timeout_seconds=0.2)
    item = tool_call("sleep_tool", {"seconds": 0.5, "how": how})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (result,) = answer(item)
    assert result["result"] == HOLDING
    row = ToolInvocation.objects.get(tool_call_id=item["id"])
    assert row.state == InvocationState.DEFERRED and row.deferred_at is not None
    from calls.models import Customer

    # The in-request attempt's writes were rolled back with its savepoint.
    assert not Customer.objects.filter(name=f"side effect {item['id']}").exists()
    assert answer(item)[0]["result"] == HOLDING  # a repeat while deferred holds too

    for callback in callbacks:  # on commit: the Celery task (eager in tests) runs it fully
        callback()
    row.refresh_from_db()
    assert (row.state, row.result) == (InvocationState.SUCCEEDED, "slept well")
    assert Customer.objects.filter(name=f"side effect {item['id']}").count() == 1
    assert answer(item)[0]["result"] == "slept well"


def test_asking_again_after_a_holding_answer_returns_the_finished_work(django_capture_on_commit_callbacks):
    ToolFactory(name="sleep_tool", timeout_seconds=0.2)
    args = {"seconds": 0.4, "how": "db"}
    with django_capture_on_commit_callbacks(execute=True):
        (first,) = answer(tool_call("sleep_tool", args), vapi_call_id="vapi-reask")
    assert first["result"] == HOLDING
    runs = len(RUNS)
    (again,) = answer(tool_call("sleep_tool", args), vapi_call_id="vapi-reask")
    assert again["result"] == "slept well"
    assert len(RUNS) == runs  # answered from the finished invocation, not run a third time


def test_finishing_twice_is_a_no_op(django_capture_on_commit_callbacks):
    from tools.execution.deferred import tool_invocation_finish

    ToolFactory(name="sleep_tool", timeout_seconds=0.1)
    item = tool_call("sleep_tool", {"seconds": 0.3})
    with django_capture_on_commit_callbacks(execute=True):
        answer(item)
    row = ToolInvocation.objects.get(tool_call_id=item["id"])
    assert row.state == InvocationState.SUCCEEDED
    assert tool_invocation_finish(invocation_id=row.pk) is False


def test_resume_deferred_re_enqueues_only_old_deferred_rows(django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    from tools.execution.deferred import tool_invocations_resume_deferred

    ToolFactory(name="sleep_tool", timeout_seconds=0.1)
    item = tool_call("sleep_tool", {"seconds": 0.2})
    with django_capture_on_commit_callbacks(execute=False):
        answer(item)  # the enqueue is "lost"
    assert tool_invocations_resume_deferred() == 0  # too recent
    ToolInvocation.objects.update(deferred_at=timezone.now() - dt.timedelta(minutes=5))
    assert tool_invocations_resume_deferred() == 1
    assert ToolInvocation.objects.get().state == InvocationState.SUCCEEDED


# --- racing deliveries of one toolCallId -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_racing_deliveries_run_the_side_effect_once():
    from calls.models import Customer

    item = tool_call("sleep_tool", {"seconds": 0.6})
    message = tool_message(item)
    answers: list[dict] = []
    barrier = threading.Barrier(2)

    def deliver():
        try:
            barrier.wait()
            answers.append(tool_calls_answer(message=message, event_id=None))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(answers) == 2
    assert answers[0] == answers[1]
    assert answers[0]["results"][0]["result"] == "slept well"
    assert Customer.objects.filter(name=f"side effect {item['id']}").count() == 1
    assert ToolInvocation.objects.filter(tool_call_id=item["id"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_that_waits_past_its_deadline_hears_the_holding_answer():
    from calls.models import Customer

    ToolFactory(name="sleep_tool", timeout_seconds=3)
    ToolFactory(name="echo_tool")
    item = tool_call("sleep_tool", {"seconds": 1.5})
    message = tool_message(item)
    answers: dict[str, dict] = {}
    started = threading.Event()

    def first():
        try:
            started.set()
            answers["first"] = tool_calls_answer(message=message, event_id=None)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    started.wait()
    import time

    time.sleep(0.3)
    from tools.models import Tool

    # The duplicate is a different process' view: shorter deadline for the repeat.
    Tool.objects.filter(name="sleep_tool").update(timeout_seconds=0.2)
    answers["second"] = tool_calls_answer(message=message, event_id=None)
    thread.join(timeout=30)
    assert answers["second"]["results"][0]["result"] == HOLDING
    assert answers["first"]["results"][0]["result"] == "slept well"
    assert Customer.objects.filter(name=f"side effect {item['id']}").count() == 1


def test_inside_a_callers_transaction_the_timeouts_are_handed_back():
    from django.db import transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            before = cursor.fetchone()[0]
        answer(tool_call("echo_tool", {"text": "x"}), tool_call("no_such_tool"))
        item = tool_call("echo_tool", {"text": "y"})
        answer(item)
        answer(item)  # the repeat path resets too
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == before
            cursor.execute("SHOW lock_timeout")
            assert cursor.fetchone()[0] == "0"


def test_round_trips_per_tool_call_stay_a_handful(django_assert_max_num_queries, resource, monday):
    """The hot path of DESIGN.md: claim, the tool's own reads and writes, the recorded answer."""
    message = tool_message(
        tool_call("book_appointment", {"date": monday.isoformat(), "time": "10:00", "name": "Q"})
    )
    tool_calls_answer(message=tool_message(tool_call("get_customer_info")), event_id=None)  # warm imports
    with django_assert_max_num_queries(12):  # BEGIN, claim, 2 savepoints, 2 reads, 2 inserts, UPDATE, COMMIT
        body = tool_calls_answer(message=message, event_id=None)
    assert body["results"][0]["result"].startswith("Booked")


def test_a_very_long_tool_call_id_is_answered_verbatim_and_still_idempotent():
    long_id = "call_" + "x" * 300
    item = tool_call("echo_tool", {"text": "long"}, call_id=long_id)
    first = answer(item)
    assert first[0]["toolCallId"] == long_id
    assert answer(item) == first
    assert len(RUNS) == 1
    other = answer(tool_call("echo_tool", {"text": "long"}, call_id="call_" + "x" * 299 + "y"))
    assert "result" in other[0] and len(RUNS) == 2


@pytest.mark.django_db
def test_each_tool_call_is_timed_in_the_tool_latency_histogram():
    from prometheus_client import REGISTRY

    from tests.tools.helpers import ask

    labels = {"tool": "unknown", "outcome": "error"}
    before = REGISTRY.get_sample_value("voiceops_tool_duration_seconds_count", labels) or 0
    ask("no_such_tool", {})
    assert REGISTRY.get_sample_value("voiceops_tool_duration_seconds_count", labels) == before + 1
