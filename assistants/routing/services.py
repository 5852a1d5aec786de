"""Writes to a routed number's rules and closures (the API's create, change, delete)."""

from __future__ import annotations

from typing import Any

from assistants.models import Closure, RoutingRule
from voiceops.writes import row_create, row_update


def routing_rule_create(*, data: dict[str, Any]) -> RoutingRule:
    return row_create(RoutingRule, data)


def routing_rule_update(*, rule: RoutingRule, data: dict[str, Any]) -> RoutingRule:
    return row_update(rule, data)


def routing_rule_delete(*, rule: RoutingRule) -> None:
    rule.delete()


def closure_create(*, data: dict[str, Any]) -> Closure:
    return row_create(Closure, data)


def closure_update(*, closure: Closure, data: dict[str, Any]) -> Closure:
    return row_update(closure, data)


def closure_delete(*, closure: Closure) -> None:
    closure.delete()
