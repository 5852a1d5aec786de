"""Lookups shared by the built-in tools: which customer, which resource, which time zone.

Identity is bound to the line: a tool acts for the customer whose number is on the call
(``ToolContext.caller``), never for an id or a name the model passes in, since the model
repeats whatever the caller says ("my customer id is 1"). Another record is reached only
through a verification step the tool's schema spells out (the confirmation code together
with the number it was booked from), and a refusal never tells whether a record exists.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import structlog

from calls.models import Customer
from tools.models import Appointment, AppointmentStatus, Resource, ToolOutcome
from tools.registry import ToolContext
from tools.selectors import resource_find, resource_names, resource_next_free_slots
from tools.speech import spoken_list, spoken_slots, zone, zone_label
from voiceops.errors import DomainError, NotFound
from voiceops.phones import numbers_match

log = structlog.get_logger(__name__)

NO_LINE = "I can't see a phone number for this call, so I can't {action}."
# Refusals never repeat the code: the same sentence whether it exists, is someone else's, or not.
NOT_ON_THIS_LINE = (
    "I couldn't find an appointment with that code booked from this phone number. "
    "If it was booked from another number, tell me that number as well."
)
NO_NUMBER_GIVEN = (
    "I can't see a phone number for this call. "
    "Please tell me the phone number the appointment was booked from, with its code."
)
NOT_VERIFIED = "I couldn't find an appointment with that code and that phone number. Please check both."


def caller_or_refuse(ctx: ToolContext, *, action: str) -> Customer | None:
    """The caller's customer record (None for a new caller); refuses on a line without a number."""
    if not ctx.caller_number:
        # No log line: the invocation row records the refusal (outcome, error), and this is
        # every tool call of a web call, on the path the caller waits on.
        ctx.outcome = ToolOutcome.REFUSED
        raise DomainError(NO_LINE.format(action=action), code="no_line")
    return ctx.caller()


def _current(appointment: Appointment) -> Appointment:
    """Follow a rescheduled appointment to where it lives now (the caller may say the old code)."""
    for _ in range(20):
        if appointment.status != AppointmentStatus.RESCHEDULED:
            break
        moved = (
            Appointment.objects.select_related("resource", "customer")
            .filter(rescheduled_from=appointment)
            .first()
        )
        if moved is None:
            break
        appointment = moved
    return appointment


def appointment_for_caller(ctx: ToolContext, args: dict[str, Any]) -> Appointment:
    """The appointment with this code, if it is the caller's or the caller verified it.

    Verified means the caller also named the number it was booked from. Whether the code
    exists is never revealed to someone who is neither.
    """
    said_number = (args.get("booked_from_number") or "").strip()
    found = Appointment.objects.select_related("resource", "customer")
    appointment = found.filter(confirmation_code=args["confirmation_code"]).first()
    if appointment is not None:
        caller = ctx.caller() if ctx.caller_number else None
        if caller is not None and appointment.customer_id == caller.pk:
            return _current(appointment)
        if said_number and numbers_match(said_number, on_file=str(appointment.customer.number)):
            return _current(appointment)
    ctx.outcome = ToolOutcome.NOT_FOUND if appointment is None else ToolOutcome.REFUSED
    if appointment is not None:
        # Someone else's appointment, unverified: worth seeing in the logs (no numbers, no code).
        log.warning(
            "tool_refused_not_the_callers",
            tool_call_id=ctx.tool_call_id,
            vapi_call_id=ctx.vapi_call_id,
            appointment_id=appointment.pk,
            verification_tried=bool(said_number),
        )
    if said_number:
        template = NOT_VERIFIED
    elif ctx.caller_number:
        template = NOT_ON_THIS_LINE
    else:
        template = NO_NUMBER_GIVEN
    raise NotFound(template, code="unknown_code")


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
