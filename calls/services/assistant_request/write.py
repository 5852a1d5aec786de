"""assistant-request's one write: ledger row, customer, call, tool links and decision in one statement.

A single statement is atomic on its own, so there is no BEGIN, COMMIT or savepoint to pay for, and
every write is conditional on the ledger row being new: a redelivery writes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Field, Model
from psycopg import sql as psycopg_sql

from assistants.models import RoutingDecision
from assistants.routing.rules import Route
from calls.enums import CallStatus, Direction
from calls.models import Call, Customer
from calls.services.assistant_request.read import Found
from calls.services.events import _INSERT_SQL as LEDGER_INSERT_SQL
from calls.services.processors.calls import (
    DIRECTION_BY_CALL_TYPE,
    as_dict,
    as_text,
    customer_name_of,
    customer_number_of,
    from_epoch_ms,
    json_safe,
    parse_iso,
)
from tools.models import Appointment, ToolInvocation
from voiceops.vapi.messages import ServerMessage

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


def routing_write(
    *,
    parsed: ServerMessage,
    ledger: list[Any],
    found: Found,
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
