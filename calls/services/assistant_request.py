"""assistant-request, answered in two round trips: one read, one write (issue 14).

Vapi holds an inbound call until we name its assistant, so this path is measured
(bench/assistant_request_bench.py, target: server p99 <= 50 ms under 32 connections). What
it costs, and why:

1. ONE SELECT: the called number, its enabled rules, the assistants they name, the closures
   around today and the caller's Customer row, as JSON aggregates.
2. Rule evaluation in Python (assistants/routing/rules.py, no query).
3. ONE statement that writes everything, committed before we answer: the ledger row with
   its answer, the caller's Customer (and its history row) when new, the Call (inserted, or
   filled where empty and moved forward to ringing: the same rules as call_link and
   call_apply_status), its unlinked tool records, and the RoutingDecision (which rule, why).
   A single statement is atomic on its own, so there is no BEGIN, COMMIT or savepoint to pay
   for. Every write is conditional on the ledger row being new: a redelivery writes nothing
   and is answered from the ledger, identically.

Any failure is answered with a sentence Vapi can speak and the ledger row still stored
("answer_failed"); only a database that cannot store the row raises (the view answers it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import re
from typing import Any, TypeVar

import structlog
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.utils import timezone
from psycopg import sql as psycopg_sql

from assistants.models import Assistant, PhoneNumber, RoutingDecision, RoutingRule
from assistants.routing.rules import CallerFacts, Route, route_choose
from calls.enums import CallStatus, Direction, EventState
from calls.models import Call, Customer, WebhookEvent
from calls.services.answers import NO_ASSISTANT, NUMBER_NOT_CONFIGURED
from calls.services.events import _INSERT_SQL as LEDGER_INSERT_SQL
from calls.services.events import ledger_row, webhook_event_record
from calls.services.processors.calls import (
    DIRECTION_BY_CALL_TYPE,
    as_dict,
    as_text,
    customer_name_of,
    customer_number_of,
    e164,
    from_epoch_ms,
    json_safe,
    parse_iso,
)
from tools.models import Appointment, ToolInvocation
from voiceops.logging import mask_number
from voiceops.vapi.messages import ServerMessage

log = structlog.get_logger(__name__)
E164_SHAPE = re.compile(r"^\+[1-9]\d{6,14}$")  # how Vapi sends numbers; compared, never stored
M = TypeVar("M", bound=Model)

# The number by Vapi id, else by the number itself (phone_number_for's order), with all the
# routing needs. Closures: a day either side of today in UTC; open_state keeps the one on the
# number's own date. json, not jsonb: Django reads jsonb as text.
_READ_SQL = """
SELECT pn.id, pn.mode, pn.time_zone, pn.opening_hours::json, pn.assistant_id,
  (SELECT json_agg(json_build_array(r.id, r.name, r."when", r.caller, r.caller_numbers, r.action,
                                    r.refusal_message, r.assistant_id) ORDER BY r.position, r.id)
     FROM assistants_routingrule r WHERE r.phone_number_id = pn.id AND r.enabled),
  (SELECT json_agg(json_build_array(a.id, a.name, a.vapi_id, a.pushed_version))
     FROM assistants_assistant a
    WHERE a.id = pn.assistant_id
       OR a.id IN (SELECT r.assistant_id FROM assistants_routingrule r
                    WHERE r.phone_number_id = pn.id AND r.enabled)),
  (SELECT json_agg(json_build_array(c.starts_on, c.ends_on, c.name))
     FROM assistants_closure c WHERE c.phone_number_id = pn.id AND c.starts_on <= %s AND c.ends_on >= %s),
  (SELECT json_build_array(cu.id, cu.name, cu.email, cu.external_id, cu.time_zone, cu.vip)
     FROM calls_customer cu WHERE cu.number = %s)
FROM assistants_phonenumber pn
WHERE pn.vapi_id = %s OR pn.number = %s
ORDER BY pn.vapi_id IS NOT DISTINCT FROM %s DESC
LIMIT 1
"""

# An existing Call (a redelivery under a new key, or an event that came first) is filled where
# empty, never overwritten: call_link's rules. Status only moves forward (call_apply_status).
_CALL_MERGE = """
  phone_number_id = COALESCE(calls_call.phone_number_id, EXCLUDED.phone_number_id),
  assistant_id = COALESCE(calls_call.assistant_id, EXCLUDED.assistant_id),
  assistant_version = CASE WHEN calls_call.assistant_id IS NULL THEN EXCLUDED.assistant_version
                           ELSE calls_call.assistant_version END,
  vapi_assistant_id = CASE WHEN calls_call.vapi_assistant_id = '' OR
                                (calls_call.assistant_id IS NULL AND EXCLUDED.assistant_id IS NOT NULL)
                           THEN EXCLUDED.vapi_assistant_id ELSE calls_call.vapi_assistant_id END,
  customer_id = COALESCE(calls_call.customer_id, EXCLUDED.customer_id),
  customer_number = CASE WHEN calls_call.customer_number = '' THEN EXCLUDED.customer_number
                         ELSE calls_call.customer_number END,
  started_at = COALESCE(calls_call.started_at, EXCLUDED.started_at),
  vapi_call = CASE WHEN EXCLUDED.vapi_call <> '{}'::jsonb
                        AND (calls_call.last_event_at IS NULL
                             OR EXCLUDED.last_event_at >= calls_call.last_event_at)
                   THEN EXCLUDED.vapi_call ELSE calls_call.vapi_call END,
  last_event_at = GREATEST(calls_call.last_event_at, EXCLUDED.last_event_at),
  status = CASE WHEN voiceops_call_status_rank(calls_call.status) < voiceops_call_status_rank(EXCLUDED.status)
                THEN EXCLUDED.status ELSE calls_call.status END,
  updated_at = EXCLUDED.updated_at"""


@functools.cache
def _fields(model: type[Model]) -> list[tuple[Field[Any, Any], str, str | None, bool]]:
    """Per model, once: each column, and its default as an SQL literal when it is a constant
    (None: the request's now, or a computed default, sent as a parameter). Constants in the text
    keep the statement under psycopg's limits for caching its parsed form (4 kB, 50 parameters)."""
    out = []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        constant = not field.has_default() or not callable(field.default) or field.default in (dict, list)
        literal = None
        if constant and not auto:
            prepared = field.get_db_prep_save(field.get_default(), connection)
            literal = psycopg_sql.quote(prepared).replace("%", "%%")
        out.append((field, connection.ops.quote_name(str(field.column)), literal, auto))
    return out


def _row(
    model: type[Model], values: dict[str, Any], now: dt.datetime, sql: dict[str, str] | None = None
) -> tuple[str, str, list[Any]]:
    """Columns, placeholders and parameters for one new row of ``model``: ``values``, else raw
    SQL from ``sql``, else the field's default (so a field added later is filled). Untyped
    placeholders are fine: Postgres types an INSERT ... SELECT's literals by the target columns."""
    db = connections[DEFAULT_DB_ALIAS]  # once: each ``connection.x`` is a thread-local lookup
    columns, placeholders, params = [], [], []
    for field, column, literal, auto in _fields(model):
        columns.append(column)
        if sql and field.attname in sql:
            placeholders.append(sql[field.attname])
        elif field.attname in values:
            placeholders.append("%s")
            params.append(field.get_db_prep_save(values[field.attname], db))
        elif literal is not None:
            placeholders.append(literal)
        else:
            placeholders.append("%s")
            params.append(field.get_db_prep_save(now if auto else field.get_default(), db))
    return ", ".join(columns), ", ".join(placeholders), params


@functools.cache
def _history_sql() -> str:
    """Customer's change history (simple-history) row for a customer created here: ``%s`` is
    the history date; the user and reason stay empty, as for any save outside a request."""
    history = Customer.history.model  # type: ignore[attr-defined]
    own = {field.attname for field in Customer._meta.concrete_fields}
    filled = {"history_date": "%s", "history_type": "'+'"}
    columns, exprs = [], []
    for field in history._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(str(field.column)))
        if field.attname in own:
            exprs.append(f"cust.{connection.ops.quote_name(str(field.column))}")
        elif field.attname in filled:
            exprs.append(filled[field.attname])
        elif field.null:
            exprs.append("NULL")
        else:
            raise RuntimeError(f"{history.__name__}.{field.name}: no value for a new customer's history row")
    return (
        f"INSERT INTO {history._meta.db_table} ({', '.join(columns)})"  # noqa: S608 - names from models
        f" SELECT {', '.join(exprs)} FROM cust WHERE cust.inserted"
    )


def _link_sql(model: type[Model]) -> str:
    """tool_records_link_call in SQL: a new call takes its unlinked tool records."""
    table = model._meta.db_table
    return (
        f"UPDATE {table} SET call_id = c.id FROM c"  # noqa: S608 - names from models
        f" WHERE c.inserted AND {table}.call_id IS NULL AND {table}.vapi_call_id = %s"
    )


def _loaded(model: type[M], **values: Any) -> M:
    """An instance as Django builds one loaded with only these fields (the others deferred: read
    on access), minus Model.__init__'s walk over every field, a fifth of this path's CPU."""
    instance = model.__new__(model)
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    instance.__dict__.update(values)
    return instance


class _Read:
    """What the single read found, as the objects route_choose expects (loaded fields only)."""

    def __init__(self, row: tuple[Any, ...]) -> None:
        phone_id, mode, time_zone, hours, default_id, rules, assistants, closures, customer = row
        self.assistants = {
            pk: _loaded(Assistant, id=pk, name=name, vapi_id=vapi_id, pushed_version=version)
            for pk, name, vapi_id, version in assistants or []
        }
        self.phone = _loaded(PhoneNumber, id=phone_id, mode=mode, time_zone=time_zone, opening_hours=hours)
        self.phone.assistant = self.assistants.get(default_id)
        self.rules = []
        for pk, name, when, caller, numbers, action, refusal, assistant_id in rules or []:
            rule = _loaded(
                RoutingRule,
                id=pk,
                name=name,
                when=when,
                caller=caller,
                caller_numbers=numbers or [],
                action=action,
                refusal_message=refusal,
            )
            rule.assistant = self.assistants.get(assistant_id)
            self.rules.append(rule)
        self.closures = [
            (dt.date.fromisoformat(first), dt.date.fromisoformat(last), name)
            for first, last, name in closures or []
        ]
        self.customer: dict[str, Any] | None = (
            dict(zip(("id", "name", "email", "external_id", "time_zone", "vip"), customer, strict=True))
            if customer
            else None
        )


def _read(*, message: dict[str, Any], caller: str | None, at: dt.datetime) -> _Read | None:
    phone = as_dict(message.get("phoneNumber"))
    vapi_id = phone.get("id") or as_dict(message.get("call")).get("phoneNumberId")
    vapi_id = vapi_id if isinstance(vapi_id, str) and vapi_id else None
    number = phone.get("number")
    if isinstance(number, str) and not E164_SHAPE.match(number):
        number = e164(number)  # parsing costs more than the query: only for an unusual form
    number = number if isinstance(number, str) else None
    if vapi_id is None and number is None:
        return None
    today = at.date()
    window = (today + dt.timedelta(days=1), today - dt.timedelta(days=1))
    with connection.cursor() as cursor:
        cursor.execute(_READ_SQL, [*window, caller, vapi_id, number, vapi_id])
        row = cursor.fetchone()
    return _Read(row) if row else None


def _variables(customer: dict[str, Any] | None) -> dict[str, str]:
    variables: dict[str, str] = {"customerName": (customer or {}).get("name") or "there"}
    for key, field in (
        ("customerEmail", "email"),
        ("customerExternalId", "external_id"),
        ("customerTimeZone", "time_zone"),
    ):
        if customer and customer.get(field):
            variables[key] = customer[field]
    return variables


def _answer(route: Route, customer: dict[str, Any] | None) -> dict[str, Any]:
    if route.assistant is None:
        return {"error": route.message or NO_ASSISTANT}
    return {
        "assistantId": route.assistant.vapi_id,
        "assistantOverrides": {"variableValues": _variables(customer)},
    }


def _write(
    *,
    parsed: ServerMessage,
    ledger: list[Any],
    found: _Read,
    caller: str | None,
    route: Route,
    now: dt.datetime,
) -> int | None:
    """The one write statement; returns the ledger id, None when this delivery is stored already."""
    message = parsed.message
    parts = [f"ev AS ({LEDGER_INSERT_SQL})"]
    params: list[Any] = list(ledger)
    customer_id: Any = found.customer["id"] if found.customer else None
    customer_sql: dict[str, str] = {}
    if caller and found.customer is None:
        columns, placeholders, row = _row(
            Customer, {"number": caller, "name": customer_name_of(message)}, now
        )
        parts.append(
            f"cust AS (INSERT INTO {Customer._meta.db_table} ({columns}) SELECT {placeholders}"  # noqa: S608
            " WHERE EXISTS (SELECT 1 FROM ev)"
            " ON CONFLICT (number) DO UPDATE SET number = EXCLUDED.number"
            " RETURNING *, (xmax = 0) AS inserted)"
        )
        parts.append(f"hist AS ({_history_sql()})")
        params += [*row, now]
        customer_sql["customer_id"] = "(SELECT id FROM cust)"
    if parsed.call_id:
        at = from_epoch_ms(parsed.timestamp)
        snapshot = as_dict(message.get("call"))
        call_type = snapshot.get("type")
        assistant = route.assistant
        call = {
            "vapi_id": parsed.call_id,
            "direction": DIRECTION_BY_CALL_TYPE.get(call_type, Direction.INBOUND)
            if isinstance(call_type, str)
            else Direction.INBOUND,
            "status": CallStatus.RINGING,
            "phone_number_id": found.phone.pk,
            "assistant_id": assistant.pk if assistant else None,
            "assistant_version": assistant.pushed_version if assistant else None,
            "vapi_assistant_id": assistant.vapi_id
            if assistant
            else as_text(snapshot.get("assistantId"), max_length=64),
            "customer_id": customer_id,
            "customer_number": customer_number_of(message),
            "started_at": parse_iso(snapshot.get("startedAt")),
            "vapi_call": json_safe(snapshot) if at is not None else {},
            "last_event_at": at or now,
        }
        columns, placeholders, row = _row(Call, call, now, customer_sql)
        parts.append(
            f"c AS (INSERT INTO {Call._meta.db_table} ({columns}) SELECT {placeholders}"  # noqa: S608
            f" WHERE EXISTS (SELECT 1 FROM ev) ON CONFLICT (vapi_id) DO UPDATE SET {_CALL_MERGE}"
            " RETURNING id, (xmax = 0) AS inserted)"
        )
        params += row
        parts.append(f"inv AS ({_link_sql(ToolInvocation)})")
        parts.append(f"app AS ({_link_sql(Appointment)})")
        params += [parsed.call_id, parsed.call_id]
        decision = {
            "phone_number_id": found.phone.pk,
            "rule_id": route.rule.pk if route.rule else None,
            "rule_name": route.rule_name,
            "assistant_id": assistant.pk if assistant else None,
            "refused": route.refused,
            "reason": route.reason[:2000],
            "decided_at": now,
        }
        columns, placeholders, row = _row(RoutingDecision, decision, now, {"call_id": "c.id"})
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in decision)
        parts.append(
            f"dec AS (INSERT INTO {RoutingDecision._meta.db_table} ({columns}) SELECT {placeholders}"  # noqa: S608
            f" FROM c ON CONFLICT (call_id) DO UPDATE SET {updates})"
        )
        params += row
    sql = "WITH " + ",\n".join(parts) + "\nSELECT id FROM ev"
    # In a caller's transaction (tests, a replay) a failed statement would poison it: a savepoint
    # then. On its own, the statement is its own transaction.
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with guard, connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchone()
    return fetched[0] if fetched else None


def _stored_answer(parsed: ServerMessage, body: bytes) -> dict[str, Any] | None:
    return (
        WebhookEvent.objects.filter(dedupe_key=parsed.dedupe_key(body))
        .values_list("response", flat=True)
        .first()
    )


def assistant_request_receive(
    *, parsed: ServerMessage, body: bytes, headers: dict[str, str]
) -> tuple[dict[str, Any], str]:
    """Choose the assistant by the number's rules, store everything, and return the answer with
    its outcome (answered, duplicate, answer_failed). Raises DatabaseError only when even the
    ledger row cannot be stored."""
    message = parsed.message
    number = customer_number_of(message)
    caller = e164(number) if number else None
    now = timezone.now()
    try:
        found = _read(message=message, caller=caller, at=now)
        log.info(
            "webhook.assistant_request",
            caller=mask_number(number),
            phone_number_id=found.phone.pk if found else None,
        )
        if found is None:
            answer: dict[str, Any] = {"error": NUMBER_NOT_CONFIGURED}
            stored = webhook_event_record(
                parsed=parsed, body=body, headers=headers, state=EventState.PROCESSED, response=answer
            )
        else:
            customer = found.customer
            facts = CallerFacts(
                number=caller or "",
                known=bool(customer and (customer["name"] or customer["email"] or customer["external_id"])),
                vip=bool(customer and customer["vip"]),
            )
            route = route_choose(
                phone_number=found.phone, rules=found.rules, closures=found.closures, caller=facts, at=now
            )
            if route.assistant is not None and not route.assistant.vapi_id:
                reason = f"{route.reason}, but assistant {route.assistant.name!r} is not pushed"
                route = Route(None, route.rule, True, "", reason)
            if customer is None and caller:
                customer = {"name": customer_name_of(message)}  # created by the write, with this name
            answer = _answer(route, customer)
            ledger = ledger_row(
                parsed=parsed, body=body, headers=headers, state=EventState.PROCESSED, response=answer
            )
            stored = _write(parsed=parsed, ledger=ledger, found=found, caller=caller, route=route, now=now)
        outcome = "answered"
    except Exception:  # noqa: BLE001 - a caller is waiting: answer with a sentence, never a 500
        log.exception("webhook.answer_failed")
        answer, outcome = {"error": NO_ASSISTANT}, "answer_failed"
        stored = webhook_event_record(  # raises DatabaseError when the database cannot store it
            parsed=parsed, body=body, headers=headers, state=EventState.PROCESSED, response=answer
        )
    if stored is None:
        previous = _stored_answer(parsed, body)
        if previous is not None:
            log.info("webhook.duplicate", answered_from="ledger")
            return previous, "duplicate"
    return answer, outcome
