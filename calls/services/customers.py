"""Customer writes: the one home for creating, changing, listing as do-not-call and the
recipient import's updates. Tools, the API, the admin, webhooks and campaigns call these.

One do-not-call rule for every source (tool, API, admin): the FIRST opt-out counts. A number
already on the list keeps its time, reason and source when it is listed again, because the
earliest opt-out is what a compliance question asks about. Taking a number off the list and
listing it again is a new opt-out with a new time; the earlier one stays in the history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from django.db import connection, transaction
from django.utils import timezone

from calls.models import Customer
from voiceops.phones import number_to_e164
from voiceops.writes import row_create, row_update

DO_NOT_CALL_FIELDS = [
    "do_not_call",
    "do_not_call_at",
    "do_not_call_reason",
    "do_not_call_source",
    "updated_at",
]


class ImportedPerson(Protocol):
    """One accepted CSV row as the customer writes need it (``recipients.AcceptedRow``)."""

    number: str
    name: str
    time_zone: str
    customer_updates: dict[str, str]


def _consent_fields(*, data: dict[str, Any], current: Customer | None) -> dict[str, Any]:
    """Stamp consent_at when consent is granted without a time (the DB refuses consent without
    one); a time given with it (staff recording a paper consent in the admin) is kept."""
    if "consent" not in data:
        return data
    if data["consent"] and not data.get("consent_at") and not (current and current.consent):
        data["consent_at"] = timezone.now()
    elif not data["consent"]:
        data["consent_at"] = None
    return data


def customer_create(*, data: dict[str, Any]) -> Customer:
    return row_create(Customer, _consent_fields(data=dict(data), current=None))


def customer_update(*, customer: Customer, data: dict[str, Any]) -> Customer:
    """Change the given fields only (``row_update``): a do-not-call or consent change made
    meanwhile is not written back over."""
    return row_update(customer, _consent_fields(data=dict(data), current=customer))


def customer_delete(*, customer: Customer) -> None:
    """Delete a customer nothing else points at; appointments and campaign entries protect it
    (the API answers their ProtectedError with a 409)."""
    customer.delete()


def customer_get_or_create(*, number: str, name: str = "", time_zone: str = "") -> tuple[Customer, bool]:
    """The customer with this E.164 number, created when unknown (race-safe through the unique
    key); an existing customer's fields are not changed."""
    return Customer.objects.get_or_create(
        number=number, defaults={"name": name[:200], "time_zone": time_zone}
    )


def customer_for_number(*, number: str, name: str = "") -> Customer | None:
    """The customer a call or contact's number names, created when unknown; None when the number
    is not a valid phone number (a SIP URI, 'anonymous', a typo): nobody is filed under it."""
    normalised = number_to_e164(number, strict=True) if number else None
    if normalised is None:
        return None
    customer, _ = customer_get_or_create(number=normalised, name=name)
    return customer


def customer_get_or_create_by_number(*, number: str, name: str = "") -> Customer:
    """The customer with this E.164 number, created on first contact (a tool's hot path).

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


def _do_not_call_list(customer: Customer, *, reason: str, source: str) -> None:
    """List a locked customer; one already listed keeps its first opt-out (see the module)."""
    if customer.do_not_call:
        return
    customer.do_not_call = True
    customer.do_not_call_at = timezone.now()
    customer.do_not_call_reason = reason[:500]
    customer.do_not_call_source = source[:50]
    customer.save(update_fields=DO_NOT_CALL_FIELDS)


def customer_opt_out(*, number: str, reason: str = "", source: str = "tool") -> Customer:
    """Put an E.164 number on the do-not-call list now, creating its customer when unknown."""
    with transaction.atomic():
        customer, _ = Customer.objects.select_for_update().get_or_create(number=number)
        _do_not_call_list(customer, reason=reason, source=source)
    return customer


def customer_do_not_call_set(
    *, customer: Customer, do_not_call: bool, reason: str = "", source: str = "api"
) -> Customer:
    """Put a number on (or take it off) the do-not-call list; campaigns skip listed numbers."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if do_not_call:
            _do_not_call_list(customer, reason=reason, source=source)
        elif customer.do_not_call:
            # Taking a number off the list says who did it and when; the listing's own source
            # and reason stay in the customer's history (django-simple-history), never erased.
            customer.do_not_call = False
            customer.do_not_call_reason = reason[:500] or "Taken off the list"
            customer.do_not_call_source = source[:50]
            customer.do_not_call_at = timezone.now()
            customer.save(update_fields=DO_NOT_CALL_FIELDS)
    return customer


def customer_changes(customer: Customer, *, name: str, time_zone: str) -> dict[str, str]:
    """The fields an import row changes on a known customer. Do-not-call, consent and their
    sources are never the import's to touch: a CSV is not evidence of an opt-out or an opt-in."""
    changes = {}
    if name and name != customer.name:
        changes["name"] = name
    if time_zone and time_zone != customer.time_zone:
        changes["time_zone"] = time_zone
    return changes


def customers_import_create(*, rows: Sequence[ImportedPerson]) -> tuple[dict[str, Customer], int]:
    """The customer of every row by number, creating the unknown ones with one history row each.
    Returns (customers by number, how many were created). Run inside the caller's transaction."""
    numbers = [row.number for row in rows]
    known = {str(c.number): c for c in Customer.objects.filter(number__in=numbers)}
    missing = [
        Customer(number=row.number, name=row.name, time_zone=row.time_zone)
        for row in rows
        if row.number not in known
    ]
    if missing:
        Customer.objects.bulk_create(missing, ignore_conflicts=True)
    customers = {str(c.number): c for c in Customer.objects.filter(number__in=numbers)}
    created = [c for number, c in customers.items() if number not in known]
    if created:
        # One history row per new customer, in one INSERT (simple-history's own bulk helper
        # re-finds rows with an OR of every field, which grows badly with the chunk).
        Customer.history.bulk_history_create(  # type: ignore[attr-defined]
            created, default_change_reason="recipient import"
        )
    return customers, len(customers) - len(known)


def customers_import_update(*, rows: Sequence[ImportedPerson]) -> int:
    """Name and time zone of known customers, as the preview said, with one history row each
    (in the caller's transaction).

    The rows are locked (in id order) and re-read, so a do-not-call or consent change made
    meanwhile is neither overwritten nor misrecorded in the history: only the two fields are
    written, the history row is the customer as it now is. A rerun finds nothing left to change.
    """
    wanted = {row.number: row.customer_updates for row in rows if row.customer_updates}
    if not wanted:
        return 0
    now = timezone.now()
    changed = []
    for customer in Customer.objects.select_for_update().filter(number__in=list(wanted)).order_by("pk"):
        updates = {k: v for k, v in wanted[str(customer.number)].items() if getattr(customer, k) != v}
        if updates:
            for attr, value in updates.items():
                setattr(customer, attr, value)
            customer.updated_at = now
            changed.append(customer)
    if changed:
        _write_names_and_zones(changed, at=now)
        Customer.history.bulk_history_create(  # type: ignore[attr-defined]
            changed, update=True, default_change_reason="recipient import", default_date=now
        )
    return len(changed)


def _write_names_and_zones(customers: list[Customer], *, at: dt.datetime) -> None:
    """One UPDATE from arrays: Django's ``bulk_update`` builds a CASE per row and field (about 1 s
    per 1,000 customers on the dev box, half the whole import). Only these fields are written."""
    meta = Customer._meta
    columns = {field.name: field.column for field in meta.concrete_fields}
    name, zone, updated = columns["name"], columns["time_zone"], columns["updated_at"]
    sql = (
        f'UPDATE "{meta.db_table}" AS c SET "{name}" = v.name, "{zone}" = v.zone, "{updated}" = %s '  # noqa: S608 - model names only
        "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, name, zone) WHERE c.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [at, [c.pk for c in customers], [c.name for c in customers], [c.time_zone for c in customers]],
        )
