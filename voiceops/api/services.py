"""Small writes the API needs that no domain area owns yet (customers, tool switches).

Kept here rather than in the views so views stay thin; each is one transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from calls.models import Customer
from tools.models import Tool


def tool_set_enabled(*, tool: Tool, enabled: bool) -> Tool:
    """Turn a tool on or off for every assistant; the registry skips disabled tools."""
    with transaction.atomic():
        tool = Tool.objects.select_for_update().get(pk=tool.pk)
        if tool.enabled != enabled:
            tool.enabled = enabled
            tool.save(update_fields=["enabled", "updated_at"])  # save(): the change enters the history
    return tool


def _consent_fields(*, data: dict[str, Any], current: Customer | None) -> dict[str, Any]:
    """Stamp consent_at when consent is granted (the DB refuses consent without a time)."""
    if "consent" not in data:
        return data
    if data["consent"] and not (current and current.consent):
        data["consent_at"] = timezone.now()
    elif not data["consent"]:
        data["consent_at"] = None
    return data


def customer_create(*, data: dict[str, Any]) -> Customer:
    data = _consent_fields(data=dict(data), current=None)
    return Customer.objects.create(**data)


def customer_update(*, customer: Customer, data: dict[str, Any]) -> Customer:
    data = _consent_fields(data=dict(data), current=customer)
    with transaction.atomic():
        for name, value in data.items():
            setattr(customer, name, value)
        customer.save()
    return customer


def customer_do_not_call_set(
    *, customer: Customer, do_not_call: bool, reason: str = "", source: str = "api"
) -> Customer:
    """Put a number on (or take it off) the do-not-call list; campaigns skip listed numbers."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if do_not_call:
            customer.do_not_call = True
            customer.do_not_call_reason = reason
            customer.do_not_call_source = source
            customer.do_not_call_at = customer.do_not_call_at or timezone.now()
        elif customer.do_not_call:
            # Taking a number off the list says who did it and when; the listing's own source
            # and reason stay in the customer's history (django-simple-history), never erased.
            customer.do_not_call = False
            customer.do_not_call_reason = reason or "Taken off the list"
            customer.do_not_call_source = source
            customer.do_not_call_at = timezone.now()
        customer.save()
    return customer
