"""Booking, cancelling and rescheduling appointments.

The exclusion constraint ``appointment_no_overlap`` is the guarantee against double
booking; these services only translate its verdict.

Every write that the constraint checks first locks its resource's row
(``resource_lock``). Without it, callers racing for one slot each INSERT a tuple and then
wait for the others' tuples to commit: two of them waiting for each other is a deadlock
that Postgres breaks only after ``deadlock_timeout`` (1 s), one pair at a time, so twenty
racers kept the line silent past the tool's deadline. With the lock they queue; the first
commits its booking and each one after it is refused at once by the constraint.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from calls.models import Call, Customer
from tools.models import Appointment, AppointmentStatus, Resource
from tools.selectors import resource_is_slot_start
from voiceops.errors import Conflict, DomainError, InvalidState

# No 0/O, 1/I/L, 5/S, 8/B: codes are read aloud and typed back by people.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY234679"
CODE_LENGTH = 6
OVERLAP_CONSTRAINT = "appointment_no_overlap"


def confirmation_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _violated_constraint(error: IntegrityError) -> str:
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    return getattr(diag, "constraint_name", "") or ""


def _check_bookable(*, resource: Resource, starts_at: dt.datetime) -> None:
    if timezone.is_naive(starts_at):
        raise DomainError("The start time needs a time zone.", code="naive_time")
    if not resource.active:
        raise DomainError(f"{resource.name} is not taking bookings.", code="resource_inactive")
    if starts_at <= timezone.now():
        raise DomainError("That time has already passed.", code="past")
    if not resource_is_slot_start(resource=resource, starts_at=starts_at):
        raise DomainError(f"That time is outside {resource.name}'s bookable hours.", code="outside_hours")


def resource_lock(resource_id: int) -> None:
    """Queue writes of one resource's bookings behind each other until the transaction ends.

    ``FOR NO KEY UPDATE`` does not block the foreign-key checks (``FOR KEY SHARE``) of
    inserts that reference the resource. Taken inside a savepoint that is rolled back, the
    lock goes with it, so a refused booking releases the next one in the queue at once.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM tools_resource WHERE id = %s FOR NO KEY UPDATE", [resource_id])


def _insert(
    *,
    resource: Resource,
    customer: Customer,
    starts_at: dt.datetime,
    call: Call | None,
    notes: str,
    vapi_call_id: str = "",
    rescheduled_from: Appointment | None = None,
) -> Appointment:
    """INSERT in a savepoint; retry only on the (astronomically rare) confirmation-code collision."""
    ends_at = starts_at + dt.timedelta(minutes=resource.slot_minutes)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                resource_lock(resource.pk)
                return Appointment.objects.create(
                    resource=resource,
                    customer=customer,
                    call=call,
                    vapi_call_id=vapi_call_id[:64],
                    starts_at=starts_at,
                    ends_at=ends_at,
                    notes=notes,
                    confirmation_code=confirmation_code_new(),
                    rescheduled_from=rescheduled_from,
                )
        except IntegrityError as error:
            if _violated_constraint(error) == OVERLAP_CONSTRAINT:
                raise Conflict("That time is already taken.", code="slot_taken")
            if "confirmation_code" in _violated_constraint(error) or "confirmation_code" in str(error):
                continue
            raise
    raise DomainError("Could not issue a confirmation code; please try again.", code="code_exhausted")


def appointment_book(
    *,
    resource: Resource,
    customer: Customer,
    starts_at: dt.datetime,
    call: Call | None = None,
    vapi_call_id: str = "",
    notes: str = "",
) -> Appointment:
    """Book one slot. ``Conflict`` if it is taken, ``DomainError`` if it is not a bookable slot.

    ``vapi_call_id`` lets a booking made before the Call row existed be linked to it later.
    """
    _check_bookable(resource=resource, starts_at=starts_at)
    return _insert(
        resource=resource,
        customer=customer,
        starts_at=starts_at,
        call=call,
        notes=notes,
        vapi_call_id=vapi_call_id,
    )


def appointment_cancel(*, appointment: Appointment) -> Appointment:
    """Cancel a booked appointment (frees its slot). Cancelling twice is harmless."""
    with transaction.atomic():
        current = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if current.status == AppointmentStatus.CANCELLED:
            return current
        if current.status != AppointmentStatus.BOOKED:
            raise InvalidState(
                f"That appointment is {current.get_status_display().lower()} and can't be cancelled.",
                code="not_booked",
            )
        current.status = AppointmentStatus.CANCELLED
        current.save(update_fields=["status", "updated_at"])
        return current


def appointment_reschedule(*, appointment: Appointment, starts_at: dt.datetime) -> Appointment:
    """Move a booking to ``starts_at``: a new appointment, the old one marked rescheduled.

    One transaction: the old row is released first (so a move to an overlapping time of the
    same resource does not collide with itself), and if the new slot is taken the whole
    thing rolls back, so the caller keeps the old slot.
    """
    with transaction.atomic():
        current = (
            Appointment.objects.select_for_update()
            .select_related("resource", "customer")
            .get(pk=appointment.pk)
        )
        if current.status != AppointmentStatus.BOOKED:
            raise InvalidState(
                f"That appointment is {current.get_status_display().lower()} and can't be moved.",
                code="not_booked",
            )
        if current.starts_at == starts_at:
            raise DomainError("The appointment is already at that time.", code="same_time")
        _check_bookable(resource=current.resource, starts_at=starts_at)
        current.status = AppointmentStatus.RESCHEDULED
        current.save(update_fields=["status", "updated_at"])
        return _insert(
            resource=current.resource,
            customer=current.customer,
            starts_at=starts_at,
            call=current.call,
            vapi_call_id=current.vapi_call_id,
            notes=current.notes,
            rescheduled_from=current,
        )
