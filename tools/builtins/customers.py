"""Built-in tools about the caller: who they are, and opting out of calls.

Both act only for the customer on the line (see ``tools.builtins.common``): there is no
argument that names another customer, and a web call without a number acts on nobody.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from calls.services.customers import customer_opt_out
from tools.builtins.arguments import GetCustomerInfoArgs, OptOutArgs
from tools.builtins.common import caller_or_refuse, listener_zone
from tools.models import AppointmentStatus, ToolOutcome
from tools.registry import ToolContext, register
from tools.speech import spelled_code, spoken_datetime, zone_label


@register(
    name="get_customer_info",
    description=(
        "Look up the caller by the phone number they are calling from: name, upcoming appointments "
        "and whether they opted out of calls. It only ever returns the caller's own record."
    ),
    arguments=GetCustomerInfoArgs,
    messages=({"type": "request-start", "content": "Let me pull up your details."},),
)
def get_customer_info(ctx: ToolContext, args: dict[str, Any]) -> str:
    customer = caller_or_refuse(ctx, action="look up your details")
    if customer is None:
        ctx.outcome = ToolOutcome.NEW_CALLER
        return "There is no customer record for this phone number; this is a new caller."
    upcoming = list(
        customer.appointments.filter(status=AppointmentStatus.BOOKED, starts_at__gt=timezone.now())
        .select_related("resource")
        .order_by("starts_at")[:3]
    )
    ctx.outcome = ToolOutcome.FOUND
    parts = [f"This is {customer.name}." if customer.name else "This caller has no name on file."]
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
        "Put the number the caller is calling from on the do-not-call list immediately, when they ask "
        "not to be called again. Takes effect at once for every campaign."
    ),
    arguments=OptOutArgs,
)
def opt_out(ctx: ToolContext, args: dict[str, Any]) -> str:
    caller_or_refuse(ctx, action="take a number off our call list from here")
    customer_opt_out(number=ctx.caller_number, reason=args.get("reason") or "", source="tool")
    ctx.outcome = ToolOutcome.OPTED_OUT
    return "Done: this number is on our do-not-call list and won't be called again."
