"""Finding, creating, locking and linking the Call a server message is about.

Every processor starts here. The Call row is locked (SELECT ... FOR UPDATE) for the rest
of the processing transaction, so two workers handling events of one call at once are
serialised on that row instead of overwriting each other's fields.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from django.db import transaction

from assistants.models import Assistant, PhoneNumber
from calls import hooks
from calls.enums import Direction
from calls.models import Call
from calls.services.customers import customer_for_number
from voiceops.phones import number_to_e164

log = structlog.get_logger(__name__)

DIRECTION_BY_CALL_TYPE = {
    "inboundPhoneCall": Direction.INBOUND,
    "outboundPhoneCall": Direction.OUTBOUND,
    "webCall": Direction.WEB,
    "vapi.websocketCall": Direction.WEB,
}
_MAX_COST = Decimal("999999.999999")  # Call.cost: 12 digits, 6 decimals


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_text(value: Any, *, max_length: int | None = None) -> str:
    """A storable string: NUL and lone surrogates removed, cut to ``max_length``."""
    if value is None or isinstance(value, dict | list):
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:max_length] if max_length else text


def json_safe(value: Any) -> Any:
    """A copy Postgres jsonb accepts: no NUL in strings, no NaN/Infinity numbers."""
    if isinstance(value, dict):
        return {as_text(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, str):
        return as_text(value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


def parse_iso(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def from_epoch_ms(value: int | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def as_cost(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        cost = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        return None
    if not cost.is_finite() or abs(cost) > _MAX_COST:
        return None
    return cost


def as_url(value: Any) -> str:
    return (
        value
        if isinstance(value, str) and value.startswith(("http://", "https://")) and len(value) <= 2000
        else ""
    )


def customer_number_of(message: dict[str, Any]) -> str:
    for source in (as_dict(message.get("customer")), as_dict(as_dict(message.get("call")).get("customer"))):
        number = source.get("number")
        if isinstance(number, str) and number:
            return as_text(number, max_length=40)
    return ""


def customer_name_of(message: dict[str, Any]) -> str:
    for source in (as_dict(message.get("customer")), as_dict(as_dict(message.get("call")).get("customer"))):
        if isinstance(source.get("name"), str) and source["name"]:
            return as_text(source["name"], max_length=200)
    return ""


def _phone_number_lookup(message: dict[str, Any]) -> list[dict[str, str]]:
    """The lookups that find our PhoneNumber for the message, in order: its Vapi id, its number."""
    phone = as_dict(message.get("phoneNumber"))
    call = as_dict(message.get("call"))
    vapi_id = phone.get("id") or call.get("phoneNumberId")
    lookups = [{"vapi_id": vapi_id}] if isinstance(vapi_id, str) and vapi_id else []
    number = phone.get("number")
    if isinstance(number, str) and (normalised := number_to_e164(number, strict=True)):
        lookups.append({"number": normalised})
    return lookups


def phone_number_for(message: dict[str, Any]) -> PhoneNumber | None:
    """Our PhoneNumber for the message, with its assistant: by Vapi id first, then by the number."""
    for lookup in _phone_number_lookup(message):
        found = PhoneNumber.objects.select_related("assistant").filter(**lookup).first()
        if found:
            return found
    return None


def _phone_number_id_for(message: dict[str, Any]) -> int | None:
    """``phone_number_for``'s id alone: the ledger links a call to it on every event that lacks
    it, and loading the number with its assistant's every column cost a few ms of Python each."""
    for lookup in _phone_number_lookup(message):
        found = PhoneNumber.objects.filter(**lookup).values_list("pk", flat=True).first()
        if found is not None:
            return found
    return None


def call_lock(
    *, vapi_call_id: str, message: dict[str, Any], fallback_direction: str = Direction.OUTBOUND
) -> Call:
    """The Call with this Vapi id, created when unknown, locked FOR UPDATE until commit."""
    call = Call.objects.select_for_update().filter(vapi_id=vapi_call_id).first()
    if call is not None:
        return call
    call_type = as_dict(message.get("call")).get("type")
    direction = (
        DIRECTION_BY_CALL_TYPE.get(call_type, fallback_direction)
        if isinstance(call_type, str)
        else (fallback_direction)
    )
    # Race-safe on the unique key without get_or_create's SELECT and savepoint; whoever inserted
    # it, the row is then locked, and tool records made before it existed are linked (idempotent).
    Call.objects.bulk_create([Call(vapi_id=vapi_call_id, direction=direction)], ignore_conflicts=True)
    call = Call.objects.select_for_update().get(vapi_id=vapi_call_id)
    from tools.services.linking import tool_records_link_call

    tool_records_link_call(call=call)
    return call


def call_link(*, call: Call, message: dict[str, Any], at: dt.datetime | None) -> list[str]:
    """Fill links and snapshot fields the call lacks; never overwrite what is set. Returns changed fields."""
    changed: list[str] = []
    snapshot = as_dict(message.get("call"))
    vapi_assistant_id = snapshot.get("assistantId")
    if not call.vapi_assistant_id and isinstance(vapi_assistant_id, str) and vapi_assistant_id:
        call.vapi_assistant_id = vapi_assistant_id[:64]
        changed.append("vapi_assistant_id")
    # Ids and the version only: a whole Assistant row is its every config column.
    if call.assistant_id is None and call.vapi_assistant_id:
        found = Assistant.objects.filter(vapi_id=call.vapi_assistant_id).values_list("pk", "pushed_version")
        if (row := found.first()) is not None:
            call.assistant_id = row[0]
            changed.append("assistant")
            if call.assistant_version is None and row[1] is not None:
                call.assistant_version = row[1]
                changed.append("assistant_version")
    elif call.assistant_id is not None and call.assistant_version is None:
        version = (
            Assistant.objects.filter(pk=call.assistant_id).values_list("pushed_version", flat=True).first()
        )
        if version is not None:
            call.assistant_version = version
            changed.append("assistant_version")
    if call.phone_number_id is None and (phone_id := _phone_number_id_for(message)) is not None:
        call.phone_number_id = phone_id
        changed.append("phone_number")
    number = customer_number_of(message)
    if not call.customer_number and number:
        call.customer_number = number
        changed.append("customer_number")
    if call.customer_id is None and call.customer_number:
        customer = customer_for_number(number=call.customer_number, name=customer_name_of(message))
        if customer is not None:
            call.customer = customer
            changed.append("customer")
    if call.started_at is None and (started := parse_iso(snapshot.get("startedAt"))):
        call.started_at = started
        changed.append("started_at")
    # The snapshot may be stale: keep the one from the latest event only.
    if snapshot and at is not None and (call.last_event_at is None or at >= call.last_event_at):
        call.vapi_call = json_safe(snapshot)
        changed.append("vapi_call")
    if at is not None and (call.last_event_at is None or at > call.last_event_at):
        call.last_event_at = at
        changed.append("last_event_at")
    return changed


def call_save(*, call: Call, fields: list[str]) -> None:
    """Save the given fields of a call locked by ``call_lock`` (its ``status`` only ever moved forward
    by ``call_status_advance`` under that lock)."""
    names = sorted({*fields, "updated_at"})
    call.save(update_fields=names)


def call_ended_notify(*, call: Call) -> None:
    """Tell the campaign area after commit; a failing hook is logged, never undoes the event."""

    def notify() -> None:
        try:
            hooks.on_call_ended(call=call)
        except Exception:  # noqa: BLE001 - the event is stored and applied; the hook owns its errors
            log.exception("call.on_call_ended_failed", call_id=call.vapi_id)

    transaction.on_commit(notify)
