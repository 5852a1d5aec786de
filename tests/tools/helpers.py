"""Calling tools through the dispatcher the way Vapi does, with the contract check on every answer."""

from __future__ import annotations

from tests.tools.conftest import tool_call, tool_message
from tests.tools.contract import assert_tool_answer_shape
from tools.dispatcher import tool_calls_answer


def ask(name: str, arguments=None, **message_kwargs) -> dict:
    """One tool call; returns its result entry (``result`` or ``error``)."""
    message = tool_message(tool_call(name, arguments), **message_kwargs)
    body = tool_calls_answer(message=message, event_id=None)
    assert_tool_answer_shape(body, message)
    return body["results"][0]
