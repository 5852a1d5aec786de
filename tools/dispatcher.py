"""Answering a ``tool-calls`` message: one result per toolCallId, in order (CONTRACT §4.2).

The webhook view calls :func:`tool_calls_answer` inside the request while the caller waits,
so this path stays lean: per tool call one transaction with the claim (one statement that
also reads the Tool row and sets the deadline), the tool's own writes and the recorded
answer. No call to Vapi, nothing that waits on Redis (a deferred tool enqueues after commit).

Bad input never raises: every toolCallList entry gets a ``result`` or an ``error`` string.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import phonenumbers
import structlog

from tools.execution import ToolRuntime, invocation_answer
from tools.registry import get_spec
from tools.speech import one_line
from voiceops import metrics
from voiceops.vapi.text import document_storable

log = structlog.get_logger(__name__)

MISSING_ID_ERROR = "This tool call had no id, so I can't answer it."


@dataclass
class ParsedCall:
    tool_call_id: str
    name: str
    arguments: dict[str, Any]
    arguments_error: str = ""


def _parse_arguments(raw: Any) -> tuple[dict[str, Any], str]:
    """Arguments arrive as an object in practice and a JSON string per the schema (CONTRACT §10.1)."""
    if raw is None or raw == "":
        return {}, ""
    if isinstance(raw, str):
        try:
            # JSON inside the message: its strings never passed the envelope's cleaning.
            raw = document_storable(json.loads(raw))
        except (ValueError, RecursionError):
            return {"_raw": raw[:2000]}, "I couldn't read the details for that request. Please try again."
    if not isinstance(raw, dict):
        return {"_raw": raw if isinstance(raw, list | int | float | bool) else str(raw)[:2000]}, (
            "The details for that request were not in the expected form."
        )
    return raw, ""


def parse_tool_call(item: Any) -> ParsedCall:
    """One toolCallList entry, tolerant of the shapes seen in the wild.

    ``function.name``/``function.arguments`` is the documented shape; ``name`` and
    ``arguments``/``parameters`` at the top level appear in older payloads and proxies.
    """
    if not isinstance(item, dict):
        return ParsedCall("", "", {}, "That tool call was malformed.")
    raw_function = item.get("function")
    function: dict[str, Any] = raw_function if isinstance(raw_function, dict) else {}
    name = function.get("name") or item.get("name") or ""
    raw_id = item.get("id") or item.get("toolCallId") or ""
    if "arguments" in function:
        raw_args = function.get("arguments")
    elif "arguments" in item:
        raw_args = item.get("arguments")
    else:
        raw_args = function.get("parameters", item.get("parameters"))
    arguments, error = _parse_arguments(raw_args)
    return ParsedCall(str(raw_id), str(name)[:80], arguments, error)


def _tool_calls(message: dict[str, Any]) -> list[Any]:
    calls = message.get("toolCallList")
    if isinstance(calls, list):
        return calls
    # Some senders only fill toolWithToolCallList; each entry carries its toolCall.
    wrapped = message.get("toolWithToolCallList")
    if isinstance(wrapped, list):
        return [w.get("toolCall") if isinstance(w, dict) else w for w in wrapped]
    return []


def caller_number(message: dict[str, Any]) -> str:
    """The customer's number in E.164 from ``message.customer`` or ``message.call.customer``."""
    candidates = []
    call = message.get("call")
    for holder in (message.get("customer"), call.get("customer") if isinstance(call, dict) else None):
        if isinstance(holder, dict) and holder.get("number"):
            candidates.append(str(holder["number"]))
    for raw in candidates:
        try:
            parsed = phonenumbers.parse(raw, None if raw.startswith("+") else "US")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return ""


def tool_calls_answer(*, message: dict[str, Any], event_id: int | None = None) -> dict[str, Any]:
    """The body to return for one tool-calls message: ``{"results": [...]}``, in call order."""
    if not isinstance(message, dict):
        return {"results": []}
    parsed = [parse_tool_call(item) for item in _tool_calls(message)]
    raw_call = message.get("call")
    call: dict[str, Any] = raw_call if isinstance(raw_call, dict) else {}
    runtime = ToolRuntime(
        vapi_call_id=str(call.get("id") or "")[:64],
        caller_number=caller_number(message),
        event_id=event_id,
    )
    results: list[dict[str, str]] = []
    for item in parsed:
        if not item.tool_call_id:
            results.append({"toolCallId": "", "name": item.name, "error": MISSING_ID_ERROR})
            continue
        spec = get_spec(item.name) if item.name else None
        started = time.perf_counter()
        answer = invocation_answer(
            runtime=runtime,
            tool_call_id=item.tool_call_id,
            name=item.name,
            arguments=item.arguments,
            arguments_error=item.arguments_error,
            spec=spec,
        )
        metrics.tool_observed(
            item.name if spec else "unknown", "error" if answer.error else "ok", time.perf_counter() - started
        )
        entry = {"toolCallId": item.tool_call_id, "name": item.name}
        if answer.error:
            entry["error"] = one_line(answer.error)
        else:
            entry["result"] = (
                one_line(answer.result) if not answer.result.startswith(("{", "[")) else answer.result
            )
        results.append(entry)
    return {"results": results}
