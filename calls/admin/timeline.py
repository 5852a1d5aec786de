"""The call page's conversation timeline: turns and tool invocations merged in time order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q

from calls.admin.utils import mask_known_secrets, redact
from calls.models import Call, TranscriptTurn
from tools.models import ToolInvocation

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
    """One row of the timeline: a spoken turn or a tool invocation."""

    kind: str  # "turn" | "tool"
    offset: float | None
    role: str
    role_label: str
    css: str
    text: str = ""
    tool: dict[str, Any] = field(default_factory=dict)

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


def _tool_entry(inv: ToolInvocation, call: Call) -> TimelineEntry:
    offset = None
    if call.started_at and inv.created_at:
        offset = (inv.created_at - call.started_at).total_seconds()
    return TimelineEntry(
        kind="tool",
        offset=offset,
        role="tool",
        role_label="Tool",
        css="tool",
        tool={
            "name": inv.name,
            "tool_call_id": inv.tool_call_id,
            "state": inv.state,
            "outcome": inv.outcome,
            "outcome_label": inv.get_outcome_display() if inv.outcome else "",
            "arguments": _json_text(inv.arguments),
            "result": mask_known_secrets(inv.result),
            "error": mask_known_secrets(inv.error),
            "latency_ms": inv.latency_ms,
        },
    )


def call_tool_invocations(*, call: Call) -> list[ToolInvocation]:
    """Invocations linked by FK, or only by Vapi call id when they arrived before the call row."""
    condition = Q(call=call)
    if call.vapi_id:
        condition |= Q(vapi_call_id=call.vapi_id)
    return list(ToolInvocation.objects.filter(condition).order_by("created_at")[:500])


def _requested_tools(data: Any) -> tuple[str, list[str]]:
    """A ``tool_calls`` turn as ``name(arguments)`` lines, plus the toolCallIds it carries."""
    calls: Any = data.get("toolCalls") if isinstance(data, dict) else None
    if not isinstance(calls, list):
        return "", []
    lines, ids = [], []
    for item in calls:
        if not isinstance(item, dict):
            continue
        function: dict[str, Any] = item["function"] if isinstance(item.get("function"), dict) else {}
        arguments = function.get("arguments", "")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except ValueError:
                pass
        shown = json.dumps(redact(arguments), ensure_ascii=False, default=str)
        lines.append(f"{function.get('name') or item.get('name') or '?'}({shown})")
        if item.get("id"):
            ids.append(str(item["id"]))
    return "\n".join(lines), ids


def call_timeline(*, call: Call) -> list[TimelineEntry]:
    """Turns by position; each tool invocation right after the turn that requested it (same
    toolCallId), otherwise slotted in by its time offset from the call start."""
    turns = list(TranscriptTurn.objects.filter(call=call).order_by("position")[:MAX_TURNS])
    pending = {inv.tool_call_id: _tool_entry(inv, call) for inv in call_tool_invocations(call=call)}
    entries: list[TimelineEntry] = []
    for turn in turns:
        text, requested = turn.text, list[str]()
        if turn.role == "tool_calls":
            described, requested = _requested_tools(turn.data)
            text = text or described
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
        for tool_call_id in requested:
            tool = pending.pop(tool_call_id, None)
            if tool is not None:
                tool.offset = turn.seconds_from_start
                entries.append(tool)
    # Stable merge of the rest: an invocation goes after the last turn whose offset is <= its own.
    for tool in pending.values():
        if tool.offset is None:
            entries.append(tool)
            continue
        index = len(entries)
        for i, entry in enumerate(entries):
            if entry.offset is not None and entry.offset > tool.offset:
                index = i
                break
        entries.insert(index, tool)
    return entries


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
