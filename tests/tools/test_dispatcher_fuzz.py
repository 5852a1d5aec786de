"""Whatever a tool-calls message holds, the dispatcher answers in the contract's shape."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tools.contract import assert_tool_answer_shape
from tools.dispatcher import function_call_answer, tool_calls_answer

pytestmark = pytest.mark.django_db

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
names = st.sampled_from(
    [
        "book_appointment",
        "check_availability",
        "get_customer_info",
        "cancel_appointment",
        "reschedule_appointment",
        "opt_out",
        "unknown_tool",
        "",
    ]
)
arguments = json_values | st.dictionaries(
    st.sampled_from(
        [
            "date",
            "time",
            "resource",
            "customer_id",
            "count",
            "confirmation_code",
            "time_zone",
            "name",
            "reason",
        ]
    ),
    json_scalars,
    max_size=5,
)
tool_calls = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=40) | st.text(min_size=129, max_size=300)},
    optional={
        "function": st.fixed_dictionaries({"name": names}, optional={"arguments": arguments}),
        "name": names,
        "arguments": arguments,
        "parameters": arguments,
    },
)
messages = st.fixed_dictionaries(
    {"type": st.just("tool-calls"), "toolCallList": st.lists(tool_calls, max_size=4)},
    optional={
        "call": json_values | st.fixed_dictionaries({"id": st.text(max_size=40)}),
        "customer": json_values | st.fixed_dictionaries({"number": st.text(max_size=20)}),
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=messages)
def test_any_tool_calls_message_gets_a_contract_answer(message):
    body = tool_calls_answer(message=message, event_id=None)
    assert_tool_answer_shape(body, message)


legacy_messages = st.fixed_dictionaries(
    {"type": st.just("function-call")},
    optional={
        "functionCall": json_values
        | st.fixed_dictionaries({"name": names}, optional={"parameters": arguments | st.text(max_size=40)}),
        "timestamp": json_scalars,
        "call": json_values
        | st.fixed_dictionaries({"id": st.text(max_size=40), "type": st.text(max_size=12)}),
        "customer": json_values | st.fixed_dictionaries({"number": st.text(max_size=20)}),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=legacy_messages)
def test_any_legacy_function_call_gets_one_spoken_result(message):
    body = function_call_answer(message=message, event_id=None)
    assert set(body) == {"result"}
    assert isinstance(body["result"], str) and body["result"] and "\n" not in body["result"]
