"""The routing decision stored on an inbound call (one row per call; a redelivery overwrites it)."""

from __future__ import annotations

import datetime as dt

from assistants.models import PhoneNumber, RoutingDecision
from assistants.routing.rules import Route
from calls.models import Call


def routing_decision_record(*, call: Call, phone_number: PhoneNumber, route: Route, at: dt.datetime) -> None:
    """Upsert the decision in the caller's transaction (the call row is already locked).

    One INSERT ... ON CONFLICT rather than update_or_create's select + savepoints: this runs
    while Vapi waits on assistant-request."""
    decision = RoutingDecision(
        call=call,
        phone_number=phone_number,
        rule=route.rule,
        rule_name=route.rule_name,
        assistant=route.assistant,
        refused=route.refused,
        reason=route.reason[:2000],
        decided_at=at,
    )
    RoutingDecision.objects.bulk_create(
        [decision],
        update_conflicts=True,
        unique_fields=["call"],
        update_fields=["phone_number", "rule", "rule_name", "assistant", "refused", "reason", "decided_at"],
    )
