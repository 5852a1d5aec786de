"""Reads about routing decisions, for the call page and anything else that asks "why this assistant?"."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from assistants.models import Closure, PhoneNumber, RoutingDecision, RoutingRule
from assistants.routing.hours import zone_of
from calls.models import Call


def routing_summary(*, call: Call) -> str:
    """One line: the rule (or none), the outcome and why; "-" when the call was not routed by us."""
    decision = RoutingDecision.objects.filter(call=call).select_related("assistant").first()
    if decision is None:
        return "-"
    outcome = "Refused" if decision.refused else f"Assistant {decision.assistant or '(deleted)'}"
    rule = f"Rule {decision.rule_name!r}" if decision.rule_name else "No rule"
    return f"{rule} → {outcome}. {decision.reason} (decided {decision.decided_at:%Y-%m-%d %H:%M:%S} UTC)"


def closures_on(*, phone_number: PhoneNumber, at: dt.datetime) -> list[tuple[dt.date, dt.date, str]]:
    """The number's closures covering ``at``'s date in the number's own time zone."""
    day = at.astimezone(zone_of(phone_number.time_zone)).date()
    return list(
        phone_number.closures.filter(starts_on__lte=day, ends_on__gte=day).values_list(
            "starts_on", "ends_on", "name"
        )
    )


def routing_rule_list() -> QuerySet[RoutingRule]:
    return RoutingRule.objects.order_by("phone_number_id", "position", "id")


def closure_list() -> QuerySet[Closure]:
    return Closure.objects.order_by("phone_number_id", "starts_on", "id")
