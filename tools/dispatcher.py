"""Answering a ``tool-calls`` message: one result per toolCallId, in order (CONTRACT §4.2).

The webhook view calls :func:`tool_calls_answer` inside the request while the caller waits,
so this path stays lean: one transaction per message; per tool call one round trip for the
claim (one statement that also reads the Tool row, sets the deadline and, once per message,
reads the caller), the tool's own statements, and the recorded answer, which travels with
the next round trip (the webhook's stored answer). No call to Vapi, nothing that waits on
Redis (a deferred tool enqueues after commit).

Bad input never raises: every toolCallList entry gets a ``result`` or an ``error`` string.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import connection, transaction

from tools.execution.answer import invocation_answer
from tools.execution.types import Answer, ToolRuntime
from tools.registry import get_spec
from tools.speech import one_line
from voiceops import metrics
from voiceops.phones import number_to_e164
from voiceops.sqlbatch import Pending
from voiceops.vapi.messages import reject_constant
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
            raw = document_storable(json.loads(raw, parse_constant=reject_constant))
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


# A web call's customer number is whatever the browser client put there: not the line's.
UNTRUSTED_CALL_TYPES = frozenset({"webCall", "vapi.websocketCall"})


def caller_number(message: dict[str, Any]) -> str:
    """The line's number in E.164 from ``message.customer`` or ``message.call.customer``.

    Empty on a web call: tools act for the caller by this number, so it must be the phone
    line Vapi connected, not a claim.
    """
    candidates = []
    call = message.get("call")
    call_type = call.get("type") if isinstance(call, dict) else None
    if call_type is not None and (not isinstance(call_type, str) or call_type in UNTRUSTED_CALL_TYPES):
        return ""  # a web call, or a type we cannot read: no line to act for
    for holder in (message.get("customer"), call.get("customer") if isinstance(call, dict) else None):
        if isinstance(holder, dict) and holder.get("number"):
            candidates.append(str(holder["number"]))
    # Possible, not valid: Vapi connected this line; refusing it over our numbering plan would
    # leave a real caller without an identity. National forms read in the default region.
    for raw in candidates:
        if number := number_to_e164(raw, region=settings.PHONENUMBER_DEFAULT_REGION):
            return number
    return ""


def _runtime(message: dict[str, Any], event_id: int | None) -> ToolRuntime:
    """The message's shared facts; its clock starts here, once for all its tool calls."""
    raw_call = message.get("call")
    call: dict[str, Any] = raw_call if isinstance(raw_call, dict) else {}
    return ToolRuntime(
        vapi_call_id=str(call.get("id") or "")[:64],
        caller_number=caller_number(message),
        event_id=event_id,
    )


def _answer_one(runtime: ToolRuntime, item: ParsedCall) -> Answer:
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
    return answer


def _spoken(text: str) -> str:
    return one_line(text) if not text.startswith(("{", "[")) else text


def tool_calls_answer(
    *, message: dict[str, Any], event_id: int | None = None, tail: list[Pending] | None = None
) -> dict[str, Any]:
    """The body to return for one tool-calls message: ``{"results": [...]}``, in call order.

    The tool calls share one deadline measured from now (see ``tools.execution``) and one
    transaction (the webhook's, or one of their own). With ``tail``, the last recorded
    answer is not sent but appended there as SQL, for the caller to send with its own next
    statement in the same transaction (the webhook stores its answer that way: one round
    trip for both).
    """
    if not isinstance(message, dict):
        return {"results": []}
    parsed = [parse_tool_call(item) for item in _tool_calls(message)]
    runtime = _runtime(message, event_id)
    results: list[dict[str, str]] = []
    tail = _tail_if_nested(tail)
    with transaction.atomic(savepoint=False):
        for item in parsed:
            if not item.tool_call_id:
                results.append({"toolCallId": "", "name": item.name, "error": MISSING_ID_ERROR})
                continue
            answer = _answer_one(runtime, item)
            entry = {"toolCallId": item.tool_call_id, "name": item.name}
            if answer.error:
                entry["error"] = one_line(answer.error)
            else:
                entry["result"] = _spoken(answer.result)
            results.append(entry)
        _hand_over(runtime, tail)
    return {"results": results}


def _tail_if_nested(tail: list[Pending] | None) -> list[Pending] | None:
    """A tail only means something inside the caller's transaction; otherwise send it ourselves."""
    return tail if connection.in_atomic_block else None


def _hand_over(runtime: ToolRuntime, tail: list[Pending] | None) -> None:
    """Send the message's last statements, or leave them to the caller's next round trip."""
    if tail is None:
        runtime.sql.flush()
    else:
        tail.extend(runtime.sql.take())


LEGACY_ID_PREFIX = "function-call:"
LEGACY_MALFORMED = "I couldn't tell which function to run."


def legacy_call_id(message: dict[str, Any], function_call: dict[str, Any]) -> str:
    """A stable id for a legacy ``function-call``, which carries none.

    A redelivery (same call, same timestamp, same function and parameters) gets the same id,
    so it is answered from the record; another request later in the call gets a new one.
    """
    basis = json.dumps(
        [message.get("timestamp"), function_call.get("name"), function_call.get("parameters")],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    digest = hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{LEGACY_ID_PREFIX}{digest}"


def function_call_answer(
    *, message: dict[str, Any], event_id: int | None = None, tail: list[Pending] | None = None
) -> dict[str, str]:
    """The body for a legacy ``function-call`` message: ``{"result": "..."}`` (CONTRACT §4.11).

    Older assistants (``model.functions``) send ``functionCall`` {``name``, ``parameters``},
    ``parameters`` as an object or a JSON string. It runs through the same registry,
    per-call idempotency and deadline as ``tool-calls``; an error is spoken in the same
    shape, since this message type has no ``error`` field. ``tail`` as in ``tool_calls_answer``.
    """
    raw = message.get("functionCall") if isinstance(message, dict) else None
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        return {"result": LEGACY_MALFORMED}
    item = parse_tool_call(
        {"id": legacy_call_id(message, raw), "name": raw["name"], "parameters": raw.get("parameters")}
    )
    runtime = _runtime(message, event_id)
    tail = _tail_if_nested(tail)
    with transaction.atomic(savepoint=False):
        answer = _answer_one(runtime, item)
        _hand_over(runtime, tail)
    return {"result": one_line(answer.error) if answer.error else _spoken(answer.result)}
