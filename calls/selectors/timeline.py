"""The call page's conversation timeline: turns and tool invocations merged in time order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q

from calls.models import Call, TranscriptTurn
from tools.models import ToolInvocation
from voiceops.console.redaction import mask_known_secrets, redact

ROLE_CSS = {
    "user": "caller",
    "assistant": "assistant",
    "bot": "assistant",
    "system": "system",
    "tool_calls": "tool",
    "tool_call_result": "tool",
}
MAX_TURNS = 2000


@dataclass
class TimelineEntry:
    """One row of the timeline: a turn, with the tool calls it led to folded into it."""

    kind: str  # "turn" | "tool"
    offset: float | None
    role: str
    role_label: str
    css: str
    text: str = ""
    tool: dict[str, Any] = field(default_factory=dict)
    tools: list[dict[str, Any]] = field(default_factory=list)

    @property
    def offset_label(self) -> str:
        if self.offset is None:
            return "—"
        total = max(self.offset, 0.0)
        minutes, seconds = divmod(total, 60)
        return f"{int(minutes):02d}:{seconds:04.1f}"


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return mask_known_secrets(value)
    return mask_known_secrets(json.dumps(redact(value), indent=2, ensure_ascii=False, default=str))


def _arguments_text(value: Any) -> str:
    """Arguments as ``key: value`` pairs a person reads, not a JSON block."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return mask_known_secrets(value)
    if isinstance(value, dict):
        pairs = (
            (k, v if isinstance(v, str | int | float) else json.dumps(v, ensure_ascii=False, default=str))
            for k, v in redact(value).items()
        )
        return mask_known_secrets(", ".join(f"{k}: {v}" for k, v in pairs))
    return _json_text(value)


def _tool_info(inv: ToolInvocation) -> dict[str, Any]:
    return {
        "name": inv.name,
        "tool_call_id": inv.tool_call_id,
        "state": inv.state,
        "outcome": inv.outcome,
        "outcome_label": inv.get_outcome_display() if inv.outcome else "",
        "arguments": _arguments_text(inv.arguments),
        "result": mask_known_secrets(inv.result),
        "error": mask_known_secrets(inv.error),
        "latency_ms": inv.latency_ms,
    }


def _tool_entry(inv: ToolInvocation, call: Call) -> TimelineEntry:
    offset = None
    if call.started_at and inv.created_at:
        offset = (inv.created_at - call.started_at).total_seconds()
    return TimelineEntry(
        kind="tool", offset=offset, role="tool", role_label="Tool", css="tool", tool=_tool_info(inv)
    )


def call_tool_invocations(*, call: Call) -> list[ToolInvocation]:
    """Invocations linked by FK, or only by Vapi call id when they arrived before the call row."""
    condition = Q(call=call)
    if call.vapi_id:
        condition |= Q(vapi_call_id=call.vapi_id)
    return list(ToolInvocation.objects.filter(condition).order_by("created_at")[:500])


def _requested_tools(data: Any) -> list[dict[str, Any]]:
    """The tool calls a ``tool_calls`` turn carries: id, name and readable arguments."""
    calls: Any = data.get("toolCalls") if isinstance(data, dict) else None
    requested = []
    for item in calls if isinstance(calls, list) else ():
        if not isinstance(item, dict):
            continue
        function: dict[str, Any] = item["function"] if isinstance(item.get("function"), dict) else {}
        requested.append(
            {
                "tool_call_id": str(item.get("id") or ""),
                "name": str(function.get("name") or item.get("name") or "?"),
                "arguments": _arguments_text(function.get("arguments", "")),
                "state": "requested",
                "outcome": "",
                "result": "",
                "error": "",
                "latency_ms": None,
            }
        )
    return requested


def _result_id(turn: TranscriptTurn) -> str:
    return str(turn.data.get("toolCallId") or "") if isinstance(turn.data, dict) else ""


def call_timeline(*, call: Call) -> list[TimelineEntry]:
    """One row per spoken turn. A tool call (request, our invocation, Vapi's echo of the result)
    is folded into the turn before it, shown once with its outcome; invocations no turn asked
    for are slotted in by their time offset from the call start."""
    turns = list(TranscriptTurn.objects.filter(call=call).order_by("position")[:MAX_TURNS])
    invocations = {inv.tool_call_id: inv for inv in call_tool_invocations(call=call)}
    results = {_result_id(t): t.text for t in turns if t.role == "tool_call_result" and _result_id(t)}
    shown: set[str] = set()
    entries: list[TimelineEntry] = []
    for turn in turns:
        if turn.role == "tool_call_result" and _result_id(turn) in shown | set(invocations):
            continue
        if turn.role == "tool_calls" and not turn.text:
            folded = []
            for tool in _requested_tools(turn.data):
                inv = invocations.pop(tool["tool_call_id"], None)
                if inv is not None:
                    tool = _tool_info(inv)
                elif tool["tool_call_id"] in results:
                    tool.update(state="answered", result=mask_known_secrets(results[tool["tool_call_id"]]))
                shown.add(tool["tool_call_id"])
                folded.append(tool)
            if entries and folded:
                entries[-1].tools.extend(folded)
                continue
            if folded:
                entries.append(
                    TimelineEntry(
                        kind="tool",
                        offset=turn.seconds_from_start,
                        role="tool",
                        role_label="Tool",
                        css="tool",
                        tools=folded,
                    )
                )
                continue
        text = turn.text
        if not text and turn.data:
            text = _json_text(turn.data)
        entries.append(
            TimelineEntry(
                kind="turn",
                offset=turn.seconds_from_start,
                role=turn.role,
                role_label=turn.get_role_display() if turn.role else "?",
                css=ROLE_CSS.get(turn.role, "system"),
                text=mask_known_secrets(text),
            )
        )
    # Invocations no turn asked for: folded into the last turn at or before their offset.
    leading: list[TimelineEntry] = []
    for inv in invocations.values():
        orphan = _tool_entry(inv, call)
        host = None
        for entry in entries:
            if orphan.offset is not None and entry.offset is not None and entry.offset <= orphan.offset:
                host = entry
        if host is None and entries and orphan.offset is None:
            host = entries[-1]
        if host is not None:
            host.tools.append(orphan.tool)
        else:
            orphan.tools = [orphan.tool]
            leading.append(orphan)
    return leading + entries


COST_LABELS = {
    "transport": "Telephony",
    "stt": "Speech to text",
    "llm": "Language model",
    "tts": "Text to speech",
    "vapi": "Vapi platform",
    "analysis": "Analysis",
    "voicemailDetection": "Voicemail detection",
    "knowledgeBase": "Knowledge base",
    "chat": "Chat",
}


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def cost_rows(*, call: Call) -> dict[str, Any]:
    """Cost components with their share of the total, plus token/character counters."""
    breakdown = call.cost_breakdown if isinstance(call.cost_breakdown, dict) else {}
    total = _money(breakdown.get("total")) or call.cost or Decimal("0")
    components = []
    counters = []
    for key, value in breakdown.items():
        if key == "total" or isinstance(value, dict | list):
            continue
        if key in COST_LABELS or not any(word in key.lower() for word in ("token", "character", "count")):
            amount = _money(value)
            if amount is None:
                continue
            share = float(amount / total * 100) if total else 0.0
            components.append(
                {"key": key, "label": COST_LABELS.get(key, key), "amount": amount, "share": share}
            )
        else:
            counters.append({"key": key, "value": value})
    order = list(COST_LABELS)
    components.sort(key=lambda row: order.index(row["key"]) if row["key"] in order else len(order))
    analysis = breakdown.get("analysisCostBreakdown")
    return {
        "total": total,
        "components": components,
        "counters": counters,
        "analysis": analysis if isinstance(analysis, dict) else {},
    }
