"""Writes to a routed number's rules and closures (the API's create, change, delete)."""

from __future__ import annotations

from typing import Any

from assistants.models import Closure, RoutingRule


def routing_rule_create(*, data: dict[str, Any]) -> RoutingRule:
    return RoutingRule.objects.create(**data)


def routing_rule_update(*, rule: RoutingRule, data: dict[str, Any]) -> RoutingRule:
    for name, value in data.items():
        setattr(rule, name, value)
    rule.save()
    return rule


def routing_rule_delete(*, rule: RoutingRule) -> None:
    rule.delete()


def closure_create(*, data: dict[str, Any]) -> Closure:
    return Closure.objects.create(**data)


def closure_update(*, closure: Closure, data: dict[str, Any]) -> Closure:
    for name, value in data.items():
        setattr(closure, name, value)
    closure.save()
    return closure


def closure_delete(*, closure: Closure) -> None:
    closure.delete()
