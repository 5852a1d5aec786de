"""Answering a ``tool-calls`` message: one result per toolCallId (CONTRACT §4.2).

This is the seam between the webhook ledger and the tool registry. Until the registry
lands, every tool call is answered with a speakable "not available" error, in the
exact answer shape Vapi expects, so callers hear a sentence instead of silence.
"""
from __future__ import annotations

from typing import Any


def tool_calls_answer(*, message: dict[str, Any], event_id: int | None = None) -> dict[str, Any]:
    """The body to return for one tool-calls message: ``{"results": [...]}``."""
    results = []
    for item in message.get("toolCallList") or []:
        if not isinstance(item, dict):
            continue
        function = item.get("function") if isinstance(item.get("function"), dict) else {}
        name = function.get("name") or item.get("name") or ""
        results.append(
            {
                "toolCallId": str(item.get("id", "")),
                "name": str(name),
                "error": "Sorry, I can't do that right now.",
            }
        )
    return {"results": results}
