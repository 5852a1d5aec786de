"""Built-in tools about the caller: who they are, and opting out of calls."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from calls.models import Customer
from tools.builtins.arguments import GetCustomerInfoArgs, OptOutArgs
from tools.builtins.common import customer_for, listener_zone
from tools.models import AppointmentStatus
from tools.registry import ToolContext, register
from tools.services.customers import customer_opt_out
from tools.speech import spelled_code, spoken_datetime, zone_label
from voiceops.errors import DomainError


@register(
    name="get_customer_info",
    description=(
        "Look up the customer on the call: name, upcoming appointments and whether they opted out of calls. "
        "Uses the caller's phone number unless a customer id is given."
    ),
    arguments=GetCustomerInfoArgs,
    messages=({"type": "request-start", "content": "Let me pull up your details."},),
)
def get_customer_info(ctx: ToolContext, args: dict[str, Any]) -> str:
    customer = customer_for(ctx, args)
    if customer is None:
        if not ctx.caller_number:
            return (
                "I can't see the caller's phone number, so I can't look them up. Ask for their customer id."
            )
        return "There is no customer record for this phone number; this is a new caller."
    upcoming = list(
        customer.appointments.filter(status=AppointmentStatus.BOOKED, starts_at__gt=timezone.now())
        .select_related("resource")
        .order_by("starts_at")[:3]
    )
    name = customer.name or "a customer with no name on file"
    parts = [f"This is {name}, customer id {customer.pk}."]
    if upcoming:
        visits = []
        for appointment in upcoming:
            tz = listener_zone({}, customer, appointment.resource)
            visits.append(
                f"with {appointment.resource.name} on {spoken_datetime(appointment.starts_at, tz)} "
                f"({zone_label(tz)}), code {spelled_code(appointment.confirmation_code)}"
            )
        parts.append("Upcoming appointments: " + "; ".join(visits) + ".")
    else:
        parts.append("No upcoming appointments.")
    if customer.do_not_call:
        parts.append("They asked not to be called.")
    return " ".join(parts)


@register(
    name="opt_out",
    description=(
        "Put the caller on the do-not-call list immediately, when they ask not to be called again. "
        "Takes effect at once for every campaign."
    ),
    arguments=OptOutArgs,
)
def opt_out(ctx: ToolContext, args: dict[str, Any]) -> str:
    number = ""
    if args.get("customer_id"):
        customer = customer_for(ctx, args)
        number = str(customer.number) if customer else ""
    number = number or ctx.caller_number
    if not number:
        raise DomainError("I can't see which phone number to remove. Ask the caller for their customer id.")
    customer = customer_opt_out(number=number, reason=args.get("reason") or "", source="tool")
    return _opted_out_sentence(customer)


def _opted_out_sentence(customer: Customer) -> str:
    return "Done: this number is on our do-not-call list and won't be called again."
