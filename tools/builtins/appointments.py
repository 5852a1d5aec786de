"""Built-in appointment tools: availability, book, cancel, reschedule.

Expected refusals (slot taken, outside hours, past time) are answered as results that
offer the next free times, so the assistant can carry on the conversation; only bad
arguments and unknown records come back as errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from calls.models import Call
from tools.builtins.arguments import (
    BookAppointmentArgs,
    CancelAppointmentArgs,
    CheckAvailabilityArgs,
    RescheduleAppointmentArgs,
)
from tools.builtins.common import customer_for, listener_zone, local_start, offer, resource_for
from tools.models import Appointment
from tools.registry import ToolContext, register
from tools.selectors import resource_free_slots_on_date
from tools.services.appointments import appointment_book, appointment_cancel, appointment_reschedule
from tools.services.customers import customer_get_or_create_by_number
from tools.speech import spelled_code, spoken_date, spoken_datetime, spoken_slots, spoken_time, zone_label
from voiceops.errors import Conflict, DomainError, NotFound

MAX_SLOTS_SPOKEN = 8
WAIT = ({"type": "request-start", "content": "One moment while I check the calendar."},)


@register(
    name="check_availability",
    description=(
        "Find free appointment times: on a given date, or the next few free times when no date is given. "
        "Times are in the caller's time zone."
    ),
    arguments=CheckAvailabilityArgs,
    messages=WAIT,
)
def check_availability(ctx: ToolContext, args: dict[str, Any]) -> str:
    resource = resource_for(args)
    customer = customer_for(ctx, args)
    tz = listener_zone(args, customer, resource)
    day = args.get("date")
    if day is None:
        return offer(resource, tz, count=args.get("count") or 3)
    today = timezone.now().astimezone(tz).date()
    if day < today:
        return f"{spoken_date(day)} has already passed; today is {spoken_date(today)}. " + offer(resource, tz)
    slots = resource_free_slots_on_date(resource=resource, day=day, tz=tz)
    if not slots:
        after = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
        return f"{resource.name} has no free times on {spoken_date(day)}. " + offer(resource, tz, after=after)
    spoken = spoken_slots(slots[:MAX_SLOTS_SPOKEN], tz)
    more = (
        f", and {len(slots) - MAX_SLOTS_SPOKEN} more later that day" if len(slots) > MAX_SLOTS_SPOKEN else ""
    )
    return f"{resource.name} is free on {spoken}{more} ({zone_label(tz)})."


@register(
    name="book_appointment",
    description=(
        "Book an appointment at a free time for the caller (or the given customer id). "
        "Say the confirmation code back to the caller."
    ),
    arguments=BookAppointmentArgs,
    messages=({"type": "request-start", "content": "Let me book that for you."},),
)
def book_appointment(ctx: ToolContext, args: dict[str, Any]) -> str:
    resource = resource_for(args)
    customer = customer_for(ctx, args)
    if customer is None:
        if not ctx.caller_number:
            raise DomainError("I need the caller's phone number or customer id to book.", code="no_customer")
        customer = customer_get_or_create_by_number(number=ctx.caller_number, name=args.get("name") or "")
    tz = listener_zone(args, customer, resource)
    starts_at = local_start(args, tz)
    when = spoken_datetime(starts_at, tz)
    try:
        appointment = appointment_book(
            resource=resource,
            customer=customer,
            starts_at=starts_at,
            call=Call(pk=ctx.call_id) if ctx.call_id else None,
            notes=args.get("notes") or "",
        )
    except Conflict:
        return f"Sorry, {when} was just taken. " + offer(resource, tz, after=starts_at)
    except DomainError as error:
        return _refusal(error, resource=resource, when=when, starts_at=starts_at, tz=tz)
    return (
        f"Booked with {resource.name} on {when} ({zone_label(tz)}). "
        f"The confirmation code is {spelled_code(appointment.confirmation_code)}."
    )


def _refusal(error: DomainError, *, resource, when: str, starts_at: dt.datetime, tz) -> str:
    if error.code == "past":
        return f"{when} has already passed. " + offer(resource, tz)
    if error.code == "outside_hours":
        day_start = dt.datetime.combine(starts_at.date(), dt.time(0), tzinfo=tz)
        return (
            f"{resource.name} doesn't take appointments at {spoken_time(starts_at, tz)} on that day. "
            + offer(resource, tz, after=day_start)
        )
    raise error


def _appointment_by_code(code: str) -> Appointment:
    appointment = (
        Appointment.objects.select_related("resource", "customer").filter(confirmation_code=code).first()
    )
    if appointment is None:
        raise NotFound(
            f"I couldn't find an appointment with the code {spelled_code(code)}. Please check the code.",
            code="unknown_code",
        )
    return appointment


@register(
    name="cancel_appointment",
    description="Cancel an appointment by its confirmation code.",
    arguments=CancelAppointmentArgs,
)
def cancel_appointment(ctx: ToolContext, args: dict[str, Any]) -> str:
    appointment = _appointment_by_code(args["confirmation_code"])
    tz = listener_zone({}, appointment.customer, appointment.resource)
    was = appointment.status
    appointment = appointment_cancel(appointment=appointment)
    when = spoken_datetime(appointment.starts_at, tz)
    if was == appointment.status:
        return f"The appointment with {appointment.resource.name} on {when} was already cancelled."
    return f"Cancelled the appointment with {appointment.resource.name} on {when} ({zone_label(tz)})."


@register(
    name="reschedule_appointment",
    description=(
        "Move an appointment, identified by its confirmation code, to a new free time. "
        "The old time is kept if the new one is not available."
    ),
    arguments=RescheduleAppointmentArgs,
    messages=WAIT,
)
def reschedule_appointment(ctx: ToolContext, args: dict[str, Any]) -> str:
    appointment = _appointment_by_code(args["confirmation_code"])
    resource = appointment.resource
    tz = listener_zone(args, appointment.customer, resource)
    starts_at = local_start(args, tz)
    when = spoken_datetime(starts_at, tz)
    old = spoken_datetime(appointment.starts_at, tz)
    try:
        moved = appointment_reschedule(appointment=appointment, starts_at=starts_at)
    except Conflict:
        return f"Sorry, {when} is taken, so the appointment stays on {old}. " + offer(
            resource, tz, after=starts_at
        )
    except DomainError as error:
        if error.code in {"past", "outside_hours"}:
            return f"The appointment stays on {old}. " + _refusal(
                error, resource=resource, when=when, starts_at=starts_at, tz=tz
            )
        raise
    return (
        f"Moved the appointment with {resource.name} from {old} to {when} ({zone_label(tz)}). "
        f"The new confirmation code is {spelled_code(moved.confirmation_code)}."
    )
