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
from calls.services.customers import customer_get_or_create_by_number
from tools.builtins.arguments import (
    BookAppointmentArgs,
    CancelAppointmentArgs,
    CheckAvailabilityArgs,
    RescheduleAppointmentArgs,
)
from tools.builtins.common import (
    appointment_for_caller,
    caller_or_refuse,
    listener_zone,
    local_start,
    offer,
    resource_for,
)
from tools.models import Appointment, AppointmentStatus, Resource, ToolOutcome
from tools.registry import ToolContext, register
from tools.selectors import resource_free_slots_on_date
from tools.services.appointments import appointment_book, appointment_cancel, appointment_reschedule
from tools.speech import spelled_code, spoken_date, spoken_datetime, spoken_slots, spoken_time, zone_label
from voiceops.errors import Conflict, DomainError

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
    customer = ctx.caller() if ctx.caller_number else None
    tz = listener_zone(args, customer, resource)
    ctx.outcome = ToolOutcome.AVAILABILITY
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
        "Book an appointment at a free time for the caller (the customer on this phone line). "
        "Say the confirmation code back to the caller."
    ),
    arguments=BookAppointmentArgs,
    messages=({"type": "request-start", "content": "Let me book that for you."},),
)
def book_appointment(ctx: ToolContext, args: dict[str, Any]) -> str:
    resource = resource_for(args)
    customer = caller_or_refuse(ctx, action="book for you; please call us from your phone to book")
    if customer is None:
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
            vapi_call_id=ctx.vapi_call_id,
            notes=args.get("notes") or "",
        )
    except Conflict:
        mine = _booked_for(customer_id=customer.pk, resource=resource, starts_at=starts_at)
        if mine is not None:
            ctx.outcome = ToolOutcome.ALREADY_BOOKED
            if ctx.vapi_call_id and mine.vapi_call_id == ctx.vapi_call_id:
                # A retry in this call (a new toolCallId after a timeout): the same answer.
                return _booked_sentence(mine, resource=resource, when=when, tz=tz)
            return (
                f"You already have {when} booked with {resource.name} ({zone_label(tz)}). "
                f"The confirmation code is {spelled_code(mine.confirmation_code)}."
            )
        ctx.outcome = ToolOutcome.SLOT_TAKEN
        return f"Sorry, {when} was just taken. " + offer(resource, tz, after=starts_at)
    except DomainError as error:
        unbookable = error.code in {"past", "outside_hours"}
        ctx.outcome = ToolOutcome.SLOT_UNAVAILABLE if unbookable else ToolOutcome.REFUSED
        return _refusal(error, resource=resource, when=when, starts_at=starts_at, tz=tz)
    ctx.outcome = ToolOutcome.BOOKED
    return _booked_sentence(appointment, resource=resource, when=when, tz=tz)


def _booked_for(*, customer_id: int, resource: Resource, starts_at: dt.datetime) -> Appointment | None:
    """The customer's own booking of exactly this slot, if that is what the slot is taken by."""
    return Appointment.objects.filter(
        customer_id=customer_id, resource=resource, starts_at=starts_at, status=AppointmentStatus.BOOKED
    ).first()


def _booked_sentence(appointment: Appointment, *, resource: Resource, when: str, tz) -> str:
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


_VERIFY = (
    "Acts only on the caller's own appointment, or, when the caller says it was booked from another "
    "number, on the appointment with that code booked from that number."
)


@register(
    name="cancel_appointment",
    description="Cancel an appointment by its confirmation code. " + _VERIFY,
    arguments=CancelAppointmentArgs,
)
def cancel_appointment(ctx: ToolContext, args: dict[str, Any]) -> str:
    appointment = appointment_for_caller(ctx, args)
    tz = listener_zone({}, appointment.customer, appointment.resource)
    appointment = appointment_cancel(appointment=appointment)
    when = spoken_datetime(appointment.starts_at, tz)
    # Cancelling again (a retry) says the same: the appointment is cancelled.
    ctx.outcome = ToolOutcome.CANCELLED
    return f"Cancelled the appointment with {appointment.resource.name} on {when} ({zone_label(tz)})."


@register(
    name="reschedule_appointment",
    description=(
        "Move an appointment, identified by its confirmation code, to a new free time. "
        "The old time is kept if the new one is not available. " + _VERIFY
    ),
    arguments=RescheduleAppointmentArgs,
    messages=WAIT,
)
def reschedule_appointment(ctx: ToolContext, args: dict[str, Any]) -> str:
    appointment = appointment_for_caller(ctx, args)
    resource = appointment.resource
    tz = listener_zone(args, appointment.customer, resource)
    starts_at = local_start(args, tz)
    when = spoken_datetime(starts_at, tz)
    followed = appointment.confirmation_code != args["confirmation_code"]
    if followed and appointment.rescheduled_from_id and appointment.starts_at == starts_at:
        # A retry (old code, same new time) of the move that already happened: the same
        # answer, nothing moves twice.
        original = appointment.rescheduled_from
        ctx.outcome = ToolOutcome.RESCHEDULED
        old_when = spoken_datetime(original.starts_at, tz) if original else when
        return _moved_sentence(appointment, resource=resource, old=old_when, when=when, tz=tz)
    old = spoken_datetime(appointment.starts_at, tz)
    try:
        moved = appointment_reschedule(appointment=appointment, starts_at=starts_at)
    except Conflict:
        ctx.outcome = ToolOutcome.SLOT_TAKEN
        return f"Sorry, {when} is taken, so the appointment stays on {old}. " + offer(
            resource, tz, after=starts_at
        )
    except DomainError as error:
        if error.code == "same_time":
            ctx.outcome = ToolOutcome.ALREADY_BOOKED
            return f"The appointment with {resource.name} is already on {when} ({zone_label(tz)})."
        if error.code in {"past", "outside_hours"}:
            ctx.outcome = ToolOutcome.SLOT_UNAVAILABLE
            return f"The appointment stays on {old}. " + _refusal(
                error, resource=resource, when=when, starts_at=starts_at, tz=tz
            )
        ctx.outcome = ToolOutcome.REFUSED
        raise
    ctx.outcome = ToolOutcome.RESCHEDULED
    return _moved_sentence(moved, resource=resource, old=old, when=when, tz=tz)


def _moved_sentence(moved: Appointment, *, resource: Resource, old: str, when: str, tz) -> str:
    return (
        f"Moved the appointment with {resource.name} from {old} to {when} ({zone_label(tz)}). "
        f"The new confirmation code is {spelled_code(moved.confirmation_code)}."
    )
