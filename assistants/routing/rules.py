"""Pick the answer for an inbound call on a number: ordered rules, first match wins.

A pure function of what it is given: the caller (calls/services/assistant_request/) loads the
number, its rules, assistants and closures in the same single query as the caller's customer row,
because this runs while Vapi waits on assistant-request (7.5 s budget, our target 50 ms p99).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from assistants.models import (
    DEFAULT_REFUSAL,
    Assistant,
    NumberMode,
    PhoneNumber,
    RoutingRule,
    RuleAction,
    RuleCaller,
    RuleWhen,
)
from assistants.routing.hours import OpenState, open_state

NUMBER_PREFIX = re.compile(r"^\+\d{1,15}$")


def caller_numbers_errors(value: Any) -> list[str]:
    """Why ``value`` is not a list of E.164 numbers or prefixes such as "+1415"."""
    if not isinstance(value, list):
        return ['Caller numbers must be a list such as ["+1415", "+14155550123"].']
    return [
        f"{item!r} is not a number or prefix in E.164 form (a + and digits, e.g. +1415)."
        for item in value
        if not isinstance(item, str) or not NUMBER_PREFIX.match(item)
    ]


@dataclass(frozen=True)
class CallerFacts:
    number: str  # E.164 or "" when withheld
    known: bool
    vip: bool


@dataclass(frozen=True)
class Route:
    """The decision: an assistant, or a refusal with the sentence Vapi speaks; and why."""

    assistant: Assistant | None
    rule: RoutingRule | None
    refused: bool
    message: str
    reason: str

    @property
    def rule_name(self) -> str:
        return self.rule.name if self.rule is not None else ""


def _caller_matches(rule: RoutingRule, caller: CallerFacts) -> tuple[bool, str]:
    parts: list[str] = []
    if rule.caller == RuleCaller.KNOWN and not caller.known:
        return False, ""
    if rule.caller == RuleCaller.UNKNOWN and caller.known:
        return False, ""
    if rule.caller == RuleCaller.VIP and not caller.vip:
        return False, ""
    if rule.caller != RuleCaller.ANY:
        parts.append(RuleCaller(rule.caller).label.lower())
    if rule.caller_numbers:
        prefix = next((p for p in rule.caller_numbers if caller.number and caller.number.startswith(p)), None)
        if prefix is None:
            return False, ""
        parts.append(f"caller number starts with {prefix}")
    return True, ", ".join(parts)


def _when_matches(rule: RoutingRule, state: OpenState) -> bool:
    if rule.when == RuleWhen.OPEN:
        return state.open
    if rule.when == RuleWhen.CLOSED:
        return not state.open
    return True


def route_choose(
    *,
    phone_number: PhoneNumber,
    rules: list[RoutingRule],
    closures: list[tuple[dt.date, dt.date, str]],
    caller: CallerFacts,
    at: dt.datetime,
) -> Route:
    """The first of ``rules`` (the number's enabled rules, in order, assistants loaded) whose
    conditions all hold; else the number's default assistant. ``closures`` (first day, last day,
    name) may include days around ``at``: only the one in the number's own date counts."""
    if phone_number.mode == NumberMode.FIXED:
        return Route(
            assistant=phone_number.assistant,
            rule=None,
            refused=False,
            message="",
            reason="Fixed number: its bound assistant (Vapi asked although the number is fixed here; "
            "check the number's Vapi state).",
        )
    state: OpenState | None = None
    if any(rule.when != RuleWhen.ANY for rule in rules):
        state = open_state(
            hours=phone_number.opening_hours,
            time_zone=phone_number.time_zone,
            closures=closures,
            at=at,
        )
    for index, rule in enumerate(rules, start=1):
        if state is not None and not _when_matches(rule, state):
            continue
        matched, caller_why = _caller_matches(rule, caller)
        if not matched:
            continue
        why = [f"rule {index} {rule.name!r}"]
        if rule.when != RuleWhen.ANY and state is not None:
            why.append(state.why)
        if caller_why:
            why.append(caller_why)
        if len(why) == 1:
            why.append("no conditions (matches every call)")
        reason = "; ".join(why)
        if rule.action == RuleAction.REFUSE:
            return Route(None, rule, True, rule.refusal_message or DEFAULT_REFUSAL, f"Refused by {reason}")
        return Route(rule.assistant, rule, False, "", f"Matched {reason}")
    if phone_number.assistant is not None:
        return Route(
            phone_number.assistant, None, False, "", "No rule matched: the number's default assistant"
        )
    return Route(None, None, True, "", "No rule matched and the number has no default assistant")
