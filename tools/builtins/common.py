"""Lookups shared by the built-in tools: which customer, which resource, which time zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from calls.models import Customer
from tools.models import Resource
from tools.registry import ToolContext
from tools.selectors import resource_find, resource_names, resource_next_free_slots
from tools.speech import spoken_list, spoken_slots, zone, zone_label
from voiceops.errors import DomainError, NotFound


def customer_for(ctx: ToolContext, args: dict[str, Any]) -> Customer | None:
    """The customer named by ``customer_id``, else the caller (by phone number), else None."""
    customer_id = args.get("customer_id")
    if customer_id:
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise NotFound(f"There is no customer with id {customer_id}.", code="unknown_customer")
        return customer
    return ctx.caller()


def resource_for(args: dict[str, Any]) -> Resource:
    resource = resource_find(text=args.get("resource"))
    if resource is not None:
        return resource
    names = resource_names()
    asked = args.get("resource")
    prefix = f"I couldn't find {asked}." if asked else "I need to know who the appointment is with."
    if names:
        raise DomainError(f"{prefix} You can choose {spoken_list(names)}.", code="unknown_resource")
    raise DomainError("There is nobody to book with at the moment.", code="no_resources")


def listener_zone(
    args: dict[str, Any], customer: Customer | None, resource: Resource | None
) -> zoneinfo.ZoneInfo:
    """The caller's time zone: said in the call, else the customer's, else the resource's."""
    for name in (
        args.get("time_zone"),
        customer.time_zone if customer else "",
        resource.time_zone if resource else "",
    ):
        if name:
            return zone(name)
    return zone("UTC")


def local_start(args: dict[str, Any], tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(args["date"], args["time"].replace(second=0, microsecond=0), tzinfo=tz)


def offer(
    resource: Resource, tz: zoneinfo.ZoneInfo, *, after: dt.datetime | None = None, count: int = 3
) -> str:
    """'The next free times with Dr. Patel are Tuesday, March 17 at 9 AM or 9:30 AM (New York time).'"""
    slots = resource_next_free_slots(resource=resource, count=count, after=after)
    if not slots:
        return f"{resource.name} has no free times in the coming weeks."
    return f"The next free times with {resource.name} are {spoken_slots(slots, tz)} ({zone_label(tz)})."
