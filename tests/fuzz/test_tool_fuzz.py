"""Fuzzing every tool's arguments through the webhook: never a 5xx, always a spoken answer.

Each example is a tool-calls message for one registered tool with fuzzed arguments: random
JSON, the tool's own argument names with wrong-typed or absurd values, arguments as a string
or a list. Whatever arrives, Vapi must get 200 with one result per toolCallId carrying a
non-empty, single-line ``result`` or ``error`` the assistant can read out.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_fixture
from tests.factories import CustomerFactory, ResourceFactory
from tests.faults.lifecycle import URL, auth_headers
from tools.models import ToolInvocation
from tools.registry import all_specs

pytestmark = pytest.mark.django_db

SPECS = {spec.name: spec for spec in all_specs()}
TOOL_NAMES = sorted(SPECS)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)  # Infinity is not JSON: a 400, tested elsewhere
    | st.text(max_size=40)
    | st.sampled_from(
        ["", " ", "2026-02-30", "25:99", "tomorrow", "+15555550123", "Dr. Nobody", "x" * 3000, "🦷", "\u0000"]
    )
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def tool_arguments(draw) -> tuple[str, Any]:
    name = draw(st.sampled_from(TOOL_NAMES))
    properties = list(SPECS[name].parameters().get("properties", {}))
    shape = draw(st.sampled_from(["schema-keys", "random-dict", "string", "other"]))
    if shape == "schema-keys":
        keys = draw(st.lists(st.sampled_from(properties), unique=True)) if properties else []
        arguments: Any = {key: draw(json_values) for key in keys}
    elif shape == "random-dict":
        arguments = draw(st.dictionaries(st.text(max_size=12), json_values, max_size=6))
    elif shape == "string":
        arguments = draw(st.text(max_size=60) | st.builds(json.dumps, json_values))
    else:
        arguments = draw(json_values)
    return name, arguments


def tool_calls_message(name: str, arguments: Any) -> tuple[str, bytes]:
    payload = load_fixture("tool-calls.json")
    tool_call_id = f"call_fuzz_{uuid.uuid4().hex[:16]}"
    entry = {"id": tool_call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
    payload["message"]["toolCallList"] = [entry]
    payload["message"]["toolWithToolCallList"] = [{"type": "function", "toolCall": entry}]
    payload["message"]["call"]["id"] = str(uuid.uuid4())
    return tool_call_id, json.dumps(payload).encode()


@pytest.fixture
def clinic(db):
    ResourceFactory(name="Dr. Patel")
    CustomerFactory(number="+14155550123")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=tool_arguments())
def test_fuzzed_tool_arguments_always_get_a_spoken_answer(client, clinic, tally, call):
    name, arguments = call
    tool_call_id, body = tool_calls_message(name, arguments)
    client.raise_request_exception = False
    response = client.post(URL, data=body, content_type="application/json", headers=auth_headers())
    answer = response.json() if response.status_code == 200 else {}
    results = answer.get("results", [])
    spoken = [r.get("error") or r.get("result") for r in results]
    recorded = ToolInvocation.objects.filter(tool_call_id=tool_call_id).exists()
    tally(
        response.status_code,
        spoken_errors=int(bool(results and results[0].get("error"))),
        invocations_recorded=int(recorded),
    )
    assert response.status_code == 200, (name, arguments, response.content[:300])
    assert [r["toolCallId"] for r in results] == [tool_call_id]
    assert all(isinstance(s, str) and s.strip() and "\n" not in s for s in spoken), (name, arguments, results)
    assert recorded, (name, arguments)  # the invocation ledger keeps every call, odd bytes included


@pytest.mark.parametrize("name", TOOL_NAMES)
@pytest.mark.parametrize("arguments", [None, "", "not json", "[1, 2]", [], 7, {"unexpected": True}])
def test_every_tool_refuses_malformed_arguments_in_words(client, clinic, tally, name, arguments):
    tool_call_id, body = tool_calls_message(name, arguments)
    response = client.post(URL, data=body, content_type="application/json", headers=auth_headers())
    tally(response.status_code)
    assert response.status_code == 200
    (result,) = response.json()["results"]
    text = result.get("error") or result.get("result")
    assert isinstance(text, str) and text.strip() and "\n" not in text
