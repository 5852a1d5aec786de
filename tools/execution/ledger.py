"""The ToolInvocation row: claiming (Vapi call id, toolCallId) in one round trip, recording the answer."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection
from django.utils import timezone
from psycopg import errors as pg_errors

from calls.models import Customer
from tools.execution.types import HOLDING, Answer, Follow, ToolRuntime
from tools.models import InvocationState, ToolOutcome
from voiceops.sqlbatch import Prepared, SqlBatch, prepared_call, sql_text

# One round trip: read the Tool row, bound this transaction's statements and lock waits by
# what is left of the tool's deadline on the message's clock, claim (Vapi call id,
# toolCallId), link the Call, find the deferred invocation this one follows up (a
# deferred, undelivered run of this tool in this call, from an earlier message, after which
# the call did nothing but ask about it again: no other tool call from a later message),
# and read the caller's Customer by the line's number (``ToolContext.caller``; read again
# for each tool call, since the one before may have created or changed it).
# ``cfg`` is evaluated before the INSERT touches the unique index, so a duplicate
# delivery's wait on the first one's claim is already bounded.
_CLAIM_SQL = """
WITH cfg AS (
    SELECT t.enabled, t.timeout_seconds,
           set_config('statement_timeout', b.ms || 'ms', true) AS st,
           set_config('lock_timeout', b.ms || 'ms', true) AS lt
    FROM (VALUES (1)) AS one (x) LEFT JOIN tools_tool t ON t.name = %(name)s,
    LATERAL (SELECT COALESCE(t.timeout_seconds, %(default)s) AS seconds) AS d,
    LATERAL (SELECT ceil(GREATEST(d.seconds - %(elapsed)s, LEAST(d.seconds, %(floor)s)) * 1000)::bigint
             AS ms) AS b
), ins AS (
INSERT INTO tools_toolinvocation
    (tool_call_id, call_id, vapi_call_id, name, arguments, state, result, error, outcome, context, created_at)
SELECT %(tcid)s, (SELECT c.id FROM calls_call c WHERE c.vapi_id = %(vid)s AND %(vid)s <> ''),
       %(vid)s, %(name)s, %(args)s::jsonb, %(state)s, '', '', '', %(ctx)s::jsonb, now()
FROM cfg
WHERE cfg.st IS NOT NULL AND cfg.lt IS NOT NULL
ON CONFLICT (vapi_call_id, tool_call_id) WHERE vapi_call_id <> '' DO NOTHING
RETURNING id, call_id, (
    SELECT prior.id FROM tools_toolinvocation prior
    WHERE %(vid)s <> '' AND prior.vapi_call_id = %(vid)s AND prior.name = %(name)s
      AND prior.deferred_at IS NOT NULL AND prior.delivered_at IS NULL
      AND prior.context->>'batch' IS DISTINCT FROM %(batch)s
      AND NOT EXISTS (
          SELECT 1 FROM tools_toolinvocation later
          WHERE later.vapi_call_id = %(vid)s AND later.id > prior.id
            AND later.follows_id IS DISTINCT FROM prior.id
            AND later.context->>'batch' IS DISTINCT FROM prior.context->>'batch'
            AND later.context->>'batch' IS DISTINCT FROM %(batch)s
      )
    -- Several deferred calls of the tool re-asked together: pair each with its own request.
    ORDER BY prior.arguments = %(args)s::jsonb DESC, prior.id DESC LIMIT 1
) AS prior_id
)
SELECT ins.id, ins.call_id, ins.prior_id, cfg.enabled, cfg.timeout_seconds, {customer}
FROM ins CROSS JOIN cfg
LEFT JOIN calls_customer cu ON %(load_caller)s AND cu.number = %(caller)s
"""
_CUSTOMER_FIELDS = Customer._meta.concrete_fields
_CLAIM = Prepared(
    "tool_claim", _CLAIM_SQL.format(customer=", ".join(f"cu.{f.column}" for f in _CUSTOMER_FIELDS))
)
# The claim itself must be able to run even when the message's time is spent.
_CLAIM_FLOOR_SECONDS = 0.25
# Opened by the claim's round trip, closed by the record's: no round trip of their own.
# ``tool_claim`` lets a claim that waited past the deadline fail without losing the ledger
# row or the message's other answers; ``tool_handler`` undoes what a failed handler wrote.
CLAIM_SAVEPOINT = "tool_claim"
HANDLER_SAVEPOINT = "tool_handler"


@dataclass
class Claim:
    invocation_id: int
    call_id: int | None
    prior_deferred_id: int | None
    enabled: bool
    timeout_seconds: float
    # ``ToolContext.caller_cache``: the caller, when the line has a number.
    caller_cache: dict[str, Any]


def invocation_key(tool_call_id: str) -> str:
    """The stored key: the id itself, or (beyond the column's 128 characters) a prefix plus its hash."""
    if len(tool_call_id) <= 128:
        return tool_call_id
    return f"{tool_call_id[:63]}#{hashlib.sha256(tool_call_id.encode('utf-8', 'surrogatepass')).hexdigest()}"


def _jsonb_text(value: Any) -> str:
    """JSON text Postgres' jsonb accepts: it refuses \\u0000 and unpaired surrogates, which a
    caller's arguments may carry (found by fuzzing); they become U+FFFD instead of failing the
    invocation record."""
    text = json.dumps(value, ensure_ascii=False, default=str).replace("\\u0000", "\\ufffd")
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _customer(values: tuple[Any, ...]) -> Customer | None:
    """The claim's caller columns as a Customer (None: no customer has the line's number)."""
    if values[0] is None:
        return None
    converted = []
    for model_field, value in zip(_CUSTOMER_FIELDS, values, strict=True):
        for converter in model_field.get_db_converters(connection):
            value = converter(value, None, connection)
        converted.append(value)
    return Customer.from_db(connection.alias, [f.attname for f in _CUSTOMER_FIELDS], converted)


def invocation_claim(
    *, runtime: ToolRuntime, tool_call_id: str, name: str, arguments: dict[str, Any], default_timeout: float
) -> Claim | None:
    """Insert the invocation row, or None when this toolCallId already has one.

    Sent with the savepoints around it, in one round trip. A tool with no ``Tool`` row yet
    (``tools_sync`` not run) counts as enabled with the deadline declared in code.
    """
    load_caller = bool(runtime.caller_number)
    params: dict[str, Any] = {
        "default": default_timeout,
        "elapsed": max(0.0, time.monotonic() - runtime.started),
        "floor": _CLAIM_FLOOR_SECONDS,
        "batch": runtime.batch,
        "name": name,
        "tcid": invocation_key(tool_call_id),
        "vid": runtime.vapi_call_id,
        "args": _jsonb_text(arguments),
        "state": InvocationState.RUNNING,
        "ctx": json.dumps(
            {"caller_number": runtime.caller_number, "event_id": runtime.event_id, "batch": runtime.batch}
        ),
        "load_caller": load_caller,
        "caller": runtime.caller_number,
    }
    claim = prepared_call(_CLAIM, params)  # a value Postgres refuses fails here, before anything is sent
    # The claim's failure is told apart from the statements before it only when it goes alone.
    runtime.sql.flush()
    try:
        rows = runtime.sql.fetch(
            [f"SAVEPOINT {CLAIM_SAVEPOINT}", claim, f"SAVEPOINT {HANDLER_SAVEPOINT}"],
            result=1,
        )
    except DatabaseError:
        # Undo the claim and its timeouts; the ledger row and the message's earlier answers stay.
        with connection.cursor() as cursor:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {CLAIM_SAVEPOINT}; RELEASE SAVEPOINT {CLAIM_SAVEPOINT}")
        raise
    if not rows:
        return None
    row = rows[0]
    return Claim(
        invocation_id=row[0],
        call_id=row[1],
        prior_deferred_id=row[2],
        enabled=row[3] is not False,
        timeout_seconds=row[4] if row[4] is not None else default_timeout,
        caller_cache={"caller": _customer(row[5:])} if load_caller else {},
    )


def is_timeout(error: BaseException) -> bool:
    cause = error.__cause__ if isinstance(error, DatabaseError) else error
    return isinstance(cause, pg_errors.QueryCanceled | pg_errors.LockNotAvailable)


_RECORDED_SQL = (
    "SELECT state, result, error, outcome FROM tools_toolinvocation"
    " WHERE vapi_call_id = %(vid)s AND tool_call_id = %(tcid)s"
)


def recorded_answer(*, runtime: ToolRuntime, tool_call_id: str) -> Answer:
    """The answer already given to this (call, toolCallId): never another call's."""
    params = {"vid": runtime.vapi_call_id, "tcid": invocation_key(tool_call_id)}
    rows = runtime.sql.fetch([sql_text(_RECORDED_SQL, params)], result=0)
    if not rows or rows[0][0] in (InvocationState.RUNNING, InvocationState.DEFERRED):
        return Answer(result=HOLDING, outcome=ToolOutcome.PENDING)
    return Answer(result=rows[0][1], error=rows[0][2], outcome=rows[0][3])


_RECORD = Prepared(
    "tool_record",
    """
UPDATE tools_toolinvocation
   SET state = %(state)s, result = %(result)s, error = %(error)s, outcome = %(outcome)s,
       latency_ms = %(latency)s, completed_at = %(completed)s, deferred_at = %(deferred)s,
       follows_id = %(follows)s
 WHERE id = %(id)s
""",
)
# A follow-up that read the deferred run's final answer out: that answer is spent.
_DELIVERED_SQL = "UPDATE tools_toolinvocation SET delivered_at = %(completed)s WHERE id = %(follows)s"
# The claim's timeouts were for this tool: the rest of the transaction gets its own back.
_RESET_SQL = ("SET LOCAL statement_timeout TO DEFAULT", "SET LOCAL lock_timeout TO DEFAULT")


def claim_closed(sql: SqlBatch) -> None:
    """Leave the claim's savepoints (keeping what they hold) and its timeouts, with the next round trip."""
    sql.add(f"RELEASE SAVEPOINT {CLAIM_SAVEPOINT}")
    for statement in _RESET_SQL:
        sql.add(statement)


def invocation_record(
    sql: SqlBatch, invocation_id: int, answer: Answer, *, state: str, started: float, follow: Follow | None
) -> None:
    """Store the answer (and the follow-up's delivery) with the message's next round trip."""
    now = timezone.now()
    deferred = state == InvocationState.DEFERRED
    params: dict[str, Any] = {
        "state": state,
        # Postgres text refuses NUL, which a handler may echo from what the caller said.
        "result": answer.result.replace("\x00", "\ufffd"),
        "error": answer.error.replace("\x00", "\ufffd"),
        "outcome": answer.outcome,
        "latency": round((time.monotonic() - started) * 1000, 3),
        "completed": None if deferred else now,
        "deferred": now if deferred else None,
        "follows": follow.prior_id if follow else None,
        "id": invocation_id,
    }
    sql.add(_RECORD, params)
    if follow is not None and follow.delivered:
        sql.add(_DELIVERED_SQL, params)
    claim_closed(sql)
