"""The post-call analysis the simulator sends follows the conversation it played.

Vapi's analysis is a model reading the transcript: a booking the tool refused ("9:30 was
just taken") is summarised as not booked and evaluated ``"false"``. The simulator cannot run
a model, so a scenario names its ``goal`` tool and gives two analyses: ``analysis`` (the
goal tool answered with a result that reads as done) and ``analysisFailed`` (it errored,
gave no answer, was missing, or its answer reads as a refusal). Placeholders include
``{goal_result}``: what the goal tool answered.
"""

from __future__ import annotations

import re
from typing import Any

JSON = dict[str, Any]
NO_RESULT = "No result returned."
# Phrases a reader takes as "it did not happen" in a tool's answer.
REFUSAL = re.compile(
    r"\b(taken|unavailable|not available|no longer available|fully booked|no (?:free )?slots?|"
    r"couldn'?t|could not|can'?t|cannot|unable|sorry|failed|error|not found|no account|"
    r"outside (?:our|the) (?:hours|opening)|already booked)\b",
    re.IGNORECASE,
)


def answer_failed(delivery: Any, call_id: str) -> bool:
    """True when voiceops answered the tool call with ``error`` (or not at all)."""
    body = getattr(delivery, "response", None)
    if getattr(delivery, "status", None) != 200 or not isinstance(body, dict):
        return True
    for item in body.get("results") or []:
        if isinstance(item, dict) and item.get("toolCallId") == call_id:
            return item.get("result") is None and item.get("error") is not None
    return True


def tool_succeeded(entry: JSON) -> bool:
    result = str(entry.get("result") or "")
    return not entry.get("failed") and result != NO_RESULT and not REFUSAL.search(result)


def goal_outcome(goal: str, tool_calls: list[JSON]) -> tuple[bool, str]:
    """(met, what the goal tool last answered); a goal never called is not met."""
    calls = [entry for entry in tool_calls if entry.get("name") == goal]
    if not calls:
        return False, "the assistant could not use that tool"
    last = calls[-1]
    return tool_succeeded(last), str(last.get("result") or NO_RESULT)


def scenario_analysis(
    *, analysis: JSON, analysis_failed: JSON, goal: str, tool_calls: list[JSON]
) -> tuple[JSON, JSON]:
    """The analysis template to render and extra placeholders for it."""
    if not goal:
        return analysis, {}
    met, result = goal_outcome(goal, tool_calls)
    extra = {"goal_result": result.rstrip(".")}
    if met:
        return analysis, extra
    if analysis_failed:
        return analysis_failed, extra
    return {
        "summary": f"The caller's request did not go through: {result}",
        "structuredData": dict(analysis.get("structuredData") or {}),
        "successEvaluation": "false",
    }, extra
