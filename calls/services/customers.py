"""Customer writes a tool may make during a call."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from calls.models import Customer


def customer_get_or_create_by_number(*, number: str, name: str = "") -> Customer:
    """The customer with this E.164 number, created on first contact.

    One ``INSERT ... ON CONFLICT (number) DO UPDATE`` (a no-op update, so RETURNING yields the
    id either way): race-safe without a savepoint, one round trip on the call's hot path.
    An existing customer's fields are not changed, and the returned object carries only the
    id and the number for certain.
    """
    customer = Customer(number=number, name=name[:200])
    Customer.objects.bulk_create(
        [customer], update_conflicts=True, unique_fields=["number"], update_fields=["number"]
    )
    return customer


def customer_opt_out(*, number: str, reason: str = "", source: str = "tool") -> Customer:
    """Put a number on the do-not-call list now; the first opt-out's time and reason are kept."""
    with transaction.atomic():
        customer, _ = Customer.objects.select_for_update().get_or_create(number=number)
        if not customer.do_not_call:
            customer.do_not_call = True
            customer.do_not_call_at = timezone.now()
            customer.do_not_call_reason = reason[:500]
            customer.do_not_call_source = source[:50]
            customer.save(
                update_fields=[
                    "do_not_call",
                    "do_not_call_at",
                    "do_not_call_reason",
                    "do_not_call_source",
                    "updated_at",
                ]
            )
        return customer
