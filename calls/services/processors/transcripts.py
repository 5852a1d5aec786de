"""Live transcript: final ``transcript`` messages and ``conversation-update`` histories.

The live transcript is, at any moment, the messages of the newest conversation-update
seen plus the final transcript lines newer than it, in time order. That is a function of
the set of events seen, not of their order, so duplicates and reordering give the same
turns. Once the end-of-call report is in, it alone is the transcript (reports.py).
"""

from __future__ import annotations

from typing import Any

from calls.enums import TurnRole, TurnSource
from calls.models import Call, TranscriptTurn
from calls.services.processors.calls import as_dict, as_list, as_text, json_safe, parse_iso

ROLE_MAP = {
    "bot": TurnRole.ASSISTANT,
    "assistant": TurnRole.ASSISTANT,
    "user": TurnRole.USER,
    "system": TurnRole.SYSTEM,
    "tool_calls": TurnRole.TOOL_CALL,
    "tool_call_result": TurnRole.TOOL_RESULT,
}


def turn_role(value: Any) -> str:
    """Our role for Vapi's; an unknown role is kept verbatim (cut to the column size)."""
    if isinstance(value, str) and value in ROLE_MAP:
        return ROLE_MAP[value].value
    return as_text(value, max_length=20) or TurnRole.SYSTEM.value


def turn_from_history(item: dict[str, Any]) -> dict[str, Any]:
    """One entry of a message history (artifact.messages / conversation-update.messages)."""
    role = turn_role(item.get("role"))
    text = item.get("message")
    if role == TurnRole.TOOL_RESULT and not text:
        text = item.get("result")
    data: dict[str, Any] = {}
    for key in ("toolCalls", "toolCallId", "name", "result", "time", "endTime", "duration", "source"):
        if key in item:
            data[key] = item[key]
    seconds = item.get("secondsFromStart")
    return {
        "role": role,
        "text": as_text(text),
        "seconds_from_start": float(seconds)
        if isinstance(seconds, int | float) and not isinstance(seconds, bool)
        else None,
        "data": json_safe(data),
    }


def _ts_of(turn: TranscriptTurn) -> float:
    value = turn.data.get("ts") if isinstance(turn.data, dict) else None
    return float(value) if isinstance(value, int | float) else 0.0


def _rewrite_live(*, call: Call, turns: list[dict[str, Any]]) -> None:
    TranscriptTurn.objects.filter(call=call).delete()
    TranscriptTurn.objects.bulk_create(
        [
            TranscriptTurn(call=call, position=i, source=TurnSource.LIVE, **turn)
            for i, turn in enumerate(turns)
        ]
    )


def _as_spec(turn: TranscriptTurn) -> dict[str, Any]:
    return {
        "role": turn.role,
        "text": turn.text,
        "seconds_from_start": turn.seconds_from_start,
        "data": turn.data,
    }


def _conversation_ts(turns: list[TranscriptTurn]) -> int | None:
    stamps = [t.data.get("conversation_ts") for t in turns if isinstance(t.data, dict)]
    numbers = [s for s in stamps if isinstance(s, int)]
    return max(numbers) if numbers else None


def transcript_final_apply(*, call: Call, message: dict[str, Any], timestamp: int | None) -> None:
    """Add one final transcript line unless a newer conversation-update already covers it."""
    if call.has_final_report or timestamp is None:
        return
    text = as_text(message.get("transcript"))
    role = turn_role(message.get("role"))
    turns = list(TranscriptTurn.objects.filter(call=call, source=TurnSource.LIVE).order_by("position"))
    covered_until = _conversation_ts(turns)
    if covered_until is not None and timestamp <= covered_until:
        return
    if any(t.data.get("ts") == timestamp and t.role == role and t.text == text for t in turns):
        return  # the same line again (replay)
    # From the message's own snapshot when it has one, so the value does not depend on
    # whether the in-progress status was processed before this line.
    started = parse_iso(as_dict(message.get("call")).get("startedAt")) or call.started_at
    seconds = max(0.0, timestamp / 1000 - started.timestamp()) if started is not None else None
    new = {
        "role": role,
        "text": text,
        "seconds_from_start": seconds,
        "data": {"ts": timestamp, "kind": "final"},
    }
    if not turns or timestamp >= max(_ts_of(t) for t in turns):
        position = (turns[-1].position + 1) if turns else 0
        TranscriptTurn.objects.create(call=call, position=position, source=TurnSource.LIVE, **new)
        return
    specs = sorted([*(_as_spec(t) for t in turns), new], key=lambda s: s["data"].get("ts", 0))
    _rewrite_live(call=call, turns=specs)


def conversation_update_apply(*, call: Call, message: dict[str, Any], timestamp: int | None) -> None:
    """Replace the live transcript with this history if it is the newest one seen."""
    if call.has_final_report or timestamp is None:
        return
    turns = list(TranscriptTurn.objects.filter(call=call, source=TurnSource.LIVE).order_by("position"))
    covered_until = _conversation_ts(turns)
    if covered_until is not None and timestamp <= covered_until:
        return
    history: list[dict[str, Any]] = []
    for item in as_list(message.get("messages")):
        if not isinstance(item, dict):
            continue
        spec = turn_from_history(item)
        when = item.get("time")
        spec["data"] = {
            **spec["data"],
            "ts": when if isinstance(when, int) else timestamp,
            "conversation_ts": timestamp,
            "kind": "conversation",
        }
        history.append(spec)
    later_finals = [
        _as_spec(t)
        for t in turns
        if t.data.get("kind") == "final" and isinstance(t.data.get("ts"), int) and t.data["ts"] > timestamp
    ]
    _rewrite_live(call=call, turns=[*history, *later_finals])
