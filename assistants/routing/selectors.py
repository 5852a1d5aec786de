"""Reads about routing decisions, for the call page and anything else that asks "why this assistant?"."""

from __future__ import annotations

from assistants.models import RoutingDecision
from calls.models import Call


def routing_summary(*, call: Call) -> str:
    """One line: the rule (or none), the outcome and why; "-" when the call was not routed by us."""
    decision = RoutingDecision.objects.filter(call=call).select_related("assistant").first()
    if decision is None:
        return "-"
    outcome = "Refused" if decision.refused else f"Assistant {decision.assistant or '(deleted)'}"
    rule = f"Rule {decision.rule_name!r}" if decision.rule_name else "No rule"
    return f"{rule} → {outcome}. {decision.reason} (decided {decision.decided_at:%Y-%m-%d %H:%M:%S} UTC)"
