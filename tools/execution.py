"""Running one tool call exactly once, within its deadline, and recording the answer.

Idempotency: the ``ToolInvocation`` row is claimed with ``INSERT ... ON CONFLICT DO NOTHING``
on (Vapi call id, toolCallId) -- model providers reuse short ids like ``call_0`` across
calls, so the toolCallId alone would answer one caller with another's result -- in the same
transaction that runs the handler and records its answer. A second delivery
of the same toolCallId that races the first blocks on the unique index until the first
commits (bounded by ``lock_timeout``), then finds the recorded answer. The side effect and
the answer commit together, so "answer recorded" means "side effect done", and a rolled
back attempt leaves nothing behind.

Deadline: the handler runs with Postgres ``statement_timeout``/``lock_timeout`` set to its
remaining time, and a ``ToolContext`` whose ``check_deadline``/``remaining`` let handlers
doing other I/O stop in time. When the deadline passes, the handler's savepoint rolls back,
the row is marked ``deferred`` and the caller hears a holding sentence; a Celery task runs
the handler again, without the deadline, after commit. Python code that ignores the
deadline is not pre-empted (threads cannot be killed); it just answers late.

One clock per message: every tool call of a message measures its deadline from the moment
the message arrived (``ToolRuntime.started``), so N tool calls answer within the largest
deadline, not N times it; a call whose time is already spent is deferred without running.

Lineage: the model asks again after a holding answer, with a new toolCallId. That
follow-up is the next tool call of the Vapi call after the deferred one's message, and of
the same tool; it is answered with the deferred run's result (once finished), linked by
``follows`` and the deferred row marked delivered. Anything else in between (another tool
call), or a request after the answer was delivered, runs afresh: "book, cancel, book the
same slot" books again instead of replaying a cancelled confirmation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg import errors as pg_errors

from calls.models import Customer
from tools.models import InvocationState, ToolInvocation, ToolOutcome
from tools.registry import DEFAULT_TIMEOUT_SECONDS, DeadlineExceeded, ToolContext, ToolSpec, get_spec
from tools.speech import encode_result, one_line, validation_sentence
from voiceops.errors import DomainError, NotFound
from voiceops.logging import mask_number
from voiceops.sqlbatch import SqlBatch, sql_text

log = structlog.get_logger(__name__)

APOLOGY = "Sorry, something went wrong on my side with that request. Please try again in a moment."
HOLDING = "I'm still working on that; it is taking a little longer. Please give me a moment and ask me again."
UNKNOWN_TOOL = "I can't do that: the tool {name} does not exist."
DISABLED_TOOL = "I can't do that right now: the tool {name} is switched off."


@dataclass
class ToolRuntime:
    """Per-message facts shared by every tool call in it.

    ``caller_number`` is the line's number only when the line is a phone call; a web call's
    number is whatever its client claimed, so it is empty there and tools act on nothing
    they cannot verify. ``started`` is the message's one clock (``time.monotonic()``).
    """

    vapi_call_id: str
    caller_number: str
    event_id: int | None = None
    started: float = field(default_factory=time.monotonic)
    # Groups this message's invocations: parallel calls are never follow-ups of each other.
    batch: str = field(default_factory=lambda: uuid.uuid4().hex)
    # What the next round trip carries: savepoint releases, recorded answers, timeout resets.
    sql: SqlBatch = field(default_factory=SqlBatch, repr=False)


@dataclass
class Answer:
    result: str = ""
    error: str = ""
    outcome: str = ""


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
_CLAIM_SQL = _CLAIM_SQL.format(customer=", ".join(f"cu.{f.column}" for f in _CUSTOMER_FIELDS))
# The claim itself must be able to run even when the message's time is spent.
_CLAIM_FLOOR_SECONDS = 0.25
# Opened by the claim's round trip, closed by the record's: no round trip of their own.
# ``tool_claim`` lets a claim that waited past the deadline fail without losing the ledger
# row or the message's other answers; ``tool_handler`` undoes what a failed handler wrote.
_CLAIM_SAVEPOINT = "tool_claim"
_HANDLER_SAVEPOINT = "tool_handler"


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


def _claim(
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
    statement = sql_text(_CLAIM_SQL, params)  # a value Postgres refuses fails here, before anything is sent
    # The claim's failure is told apart from the statements before it only when it goes alone.
    runtime.sql.flush()
    try:
        rows = runtime.sql.fetch(
            [
                (f"SAVEPOINT {_CLAIM_SAVEPOINT}", None),
                (statement, None),
                (f"SAVEPOINT {_HANDLER_SAVEPOINT}", None),
            ],
            result=1,
        )
    except DatabaseError:
        # Undo the claim and its timeouts; the ledger row and the message's earlier answers stay.
        with connection.cursor() as cursor:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_CLAIM_SAVEPOINT}; RELEASE SAVEPOINT {_CLAIM_SAVEPOINT}")
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


def _is_timeout(error: BaseException) -> bool:
    cause = error.__cause__ if isinstance(error, DatabaseError) else error
    return isinstance(cause, pg_errors.QueryCanceled | pg_errors.LockNotAvailable)


_RECORDED_SQL = (
    "SELECT state, result, error, outcome FROM tools_toolinvocation"
    " WHERE vapi_call_id = %(vid)s AND tool_call_id = %(tcid)s"
)


def _recorded_answer(*, runtime: ToolRuntime, tool_call_id: str) -> Answer:
    """The answer already given to this (call, toolCallId): never another call's."""
    params = {"vid": runtime.vapi_call_id, "tcid": invocation_key(tool_call_id)}
    rows = runtime.sql.fetch([(_RECORDED_SQL, params)], result=0)
    if not rows or rows[0][0] in (InvocationState.RUNNING, InvocationState.DEFERRED):
        return Answer(result=HOLDING, outcome=ToolOutcome.PENDING)
    return Answer(result=rows[0][1], error=rows[0][2], outcome=rows[0][3])


_RECORD_SQL = """
UPDATE tools_toolinvocation
   SET state = %(state)s, result = %(result)s, error = %(error)s, outcome = %(outcome)s,
       latency_ms = %(latency)s, completed_at = %(completed)s, deferred_at = %(deferred)s,
       follows_id = %(follows)s
 WHERE id = %(id)s
"""
# A follow-up that read the deferred run's final answer out: that answer is spent.
_DELIVERED_SQL = "UPDATE tools_toolinvocation SET delivered_at = %(completed)s WHERE id = %(follows)s"
# The claim's timeouts were for this tool: the rest of the transaction gets its own back.
_RESET_SQL = ("SET LOCAL statement_timeout TO DEFAULT", "SET LOCAL lock_timeout TO DEFAULT")


def _claim_closed(sql: SqlBatch) -> None:
    """Leave the claim's savepoints (keeping what they hold) and its timeouts, with the next round trip."""
    sql.add(f"RELEASE SAVEPOINT {_CLAIM_SAVEPOINT}")
    for statement in _RESET_SQL:
        sql.add(statement)


def _record(
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
    sql.add(_RECORD_SQL, params)
    if follow is not None and follow.delivered:
        sql.add(_DELIVERED_SQL, params)
    _claim_closed(sql)


def _validate(spec: ToolSpec, arguments: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    serializer = spec.arguments(data=arguments)
    if serializer.is_valid():
        return dict(serializer.validated_data), ""
    labels = {name: str(f.label or name.replace("_", " ")).lower() for name, f in serializer.fields.items()}
    return None, validation_sentence(serializer.errors, labels)


def _failure_answer(error: Exception, ctx: ToolContext, *, log_kw: dict[str, Any]) -> Answer:
    """What the caller hears when the handler raised; DeadlineExceeded when time stopped it."""
    if isinstance(error, DeadlineExceeded):
        raise error
    if isinstance(error, DomainError):
        fallback = ToolOutcome.NOT_FOUND if isinstance(error, NotFound) else ToolOutcome.REFUSED
        return Answer(error=one_line(error.message), outcome=ctx.outcome or fallback)
    if isinstance(error, DatabaseError) and ctx.deadline is not None and _is_timeout(error):
        raise DeadlineExceeded() from error
    log.exception("tool_handler_failed", exc_info=error, **log_kw)
    return Answer(error=APOLOGY, outcome=ToolOutcome.ERROR)


def _run_handler(
    spec: ToolSpec, ctx: ToolContext, values: dict[str, Any], *, log_kw: dict[str, Any]
) -> Answer:
    """In a worker: the handler in a savepoint of its own, so its writes vanish if it fails."""
    try:
        with transaction.atomic():
            value = spec.handler(ctx, values)
        return Answer(result=encode_result(value), outcome=ctx.outcome)
    except Exception as error:  # noqa: BLE001 - any handler bug becomes an apology, never a 500
        return _failure_answer(error, ctx, log_kw=log_kw)


def _run_handler_in_request(
    spec: ToolSpec, ctx: ToolContext, values: dict[str, Any], *, sql: SqlBatch, log_kw: dict[str, Any]
) -> Answer:
    """In a request: the handler inside the ``tool_handler`` savepoint the claim opened.

    On failure that savepoint is rolled back: at once after a database error (the
    transaction refuses every statement until then), otherwise with the next round trip.
    Raises DeadlineExceeded when the deadline stopped it (the caller defers).
    """
    callbacks = len(connection.run_on_commit)
    try:
        value = spec.handler(ctx, values)
        return Answer(result=encode_result(value), outcome=ctx.outcome)
    except Exception as error:  # noqa: BLE001 - any handler bug becomes an apology, never a 500
        # What the handler asked to run after commit goes with what it wrote.
        del connection.run_on_commit[callbacks:]
        if connection.needs_rollback:  # set by a failed ORM write: the savepoint rollback undoes it
            transaction.set_rollback(False)
        rollback = f"ROLLBACK TO SAVEPOINT {_HANDLER_SAVEPOINT}"
        if isinstance(error, DatabaseError):
            with connection.cursor() as cursor:
                cursor.execute(rollback)
        else:
            sql.add(rollback)
        return _failure_answer(error, ctx, log_kw=log_kw)


def invocation_answer(
    *,
    runtime: ToolRuntime,
    tool_call_id: str,
    name: str,
    arguments: dict[str, Any],
    arguments_error: str,
    spec: ToolSpec | None,
) -> Answer:
    """Claim, run and record one tool call; a repeat returns what was recorded.

    Runs in the message's transaction (see ``tools.dispatcher``). The recorded answer waits
    in ``runtime.sql`` for the message's next round trip; it commits with everything else.
    """
    started = time.monotonic()
    log_kw = {
        "tool": name,
        "tool_call_id": tool_call_id,
        "vapi_call_id": runtime.vapi_call_id,
        "event_id": runtime.event_id,
        "caller": mask_number(runtime.caller_number),
    }
    default_timeout = spec.timeout_seconds if spec else DEFAULT_TIMEOUT_SECONDS
    try:
        claim = _claim(
            runtime=runtime,
            tool_call_id=tool_call_id,
            name=name,
            arguments=arguments,
            default_timeout=default_timeout,
        )
    except DatabaseError as error:
        # Most often: a duplicate delivery waited on the first one past the deadline.
        if _is_timeout(error):
            log.info("tool_call_wait_timeout", **log_kw)
            return Answer(result=HOLDING, outcome=ToolOutcome.PENDING)
        log.exception("tool_call_record_failed", **log_kw)
        return Answer(error=APOLOGY, outcome=ToolOutcome.ERROR)
    if claim is None:
        _claim_closed(runtime.sql)
        log.info("tool_call_repeat", **log_kw)
        return _recorded_answer(runtime=runtime, tool_call_id=tool_call_id)
    answer, state, follow = _answer_claimed(
        spec=spec if claim.enabled else None,
        known=spec is not None,
        name=name,
        arguments=arguments,
        arguments_error=arguments_error,
        prior_deferred=claim.prior_deferred_id,
        sql=runtime.sql,
        ctx=ToolContext(
            tool_call_id=tool_call_id,
            vapi_call_id=runtime.vapi_call_id,
            caller_number=runtime.caller_number,
            invocation_id=claim.invocation_id,
            call_id=claim.call_id,
            deadline=runtime.started + claim.timeout_seconds,
            caller_cache=claim.caller_cache,
        ),
        log_kw=log_kw,
    )
    _record(runtime.sql, claim.invocation_id, answer, state=state, started=started, follow=follow)
    if state == InvocationState.DEFERRED:
        invocation_id = claim.invocation_id
        transaction.on_commit(lambda: _enqueue_finish(invocation_id))
        log.warning("tool_call_deferred", invocation_id=invocation_id, **log_kw)
    return answer


@dataclass
class Follow:
    """This invocation follows up the deferred ``prior_id``; ``delivered`` once its final answer is read."""

    prior_id: int
    delivered: bool


def _answer_claimed(
    *,
    spec: ToolSpec | None,
    known: bool,
    name: str,
    arguments: dict[str, Any],
    arguments_error: str,
    prior_deferred: int | None,
    sql: SqlBatch,
    ctx: ToolContext,
    log_kw: dict[str, Any],
) -> tuple[Answer, str, Follow | None]:
    failed = InvocationState.FAILED
    if spec is None:
        template = DISABLED_TOOL if known else UNKNOWN_TOOL
        log.info("tool_unavailable", known=known, **log_kw)
        return Answer(error=template.format(name=name), outcome=ToolOutcome.UNAVAILABLE), failed, None
    if arguments_error:
        return Answer(error=arguments_error, outcome=ToolOutcome.INVALID), failed, None
    values, problem = _validate(spec, arguments)
    if values is None:
        log.info("tool_arguments_invalid", problem=problem, **log_kw)
        return Answer(error=problem, outcome=ToolOutcome.INVALID), failed, None
    if prior_deferred is not None:
        answer, delivered = _answer_from_prior(prior_deferred)
        log.info("tool_call_follow_up", follows=prior_deferred, delivered=delivered, **log_kw)
        return answer, InvocationState.SUCCEEDED, Follow(prior_deferred, delivered)
    pending = Answer(result=HOLDING, outcome=ToolOutcome.PENDING)
    if ctx.deadline is not None and time.monotonic() >= ctx.deadline:
        # The message's time went to the tool calls before this one: run it in a worker.
        return pending, InvocationState.DEFERRED, None
    try:
        answer = _run_handler_in_request(spec, ctx, values, sql=sql, log_kw=log_kw)
    except DeadlineExceeded:
        return pending, InvocationState.DEFERRED, None
    return answer, (failed if answer.error else InvocationState.SUCCEEDED), None


def _answer_from_prior(prior_id: int) -> tuple[Answer, bool]:
    """The deferred run's answer when it has finished (True: delivered now), else holding again."""
    row = ToolInvocation.objects.filter(pk=prior_id).values("state", "result", "error", "outcome").first()
    if row is None or row["state"] in (InvocationState.RUNNING, InvocationState.DEFERRED):
        return Answer(result=HOLDING, outcome=ToolOutcome.PENDING), False
    return Answer(result=row["result"], error=row["error"], outcome=row["outcome"]), True


def _enqueue_finish(invocation_id: int) -> None:
    """Publishing must not break the answer already given; the sweeper re-enqueues on failure."""
    from tools.tasks import tool_invocation_finish

    try:
        tool_invocation_finish.delay(invocation_id)
    except Exception:  # noqa: BLE001 - broker down: the deferred row stays and is swept later
        log.exception("tool_invocation_enqueue_failed", invocation_id=invocation_id)


def tool_invocation_finish(*, invocation_id: int) -> bool:
    """Run a deferred invocation to completion (in a worker). True when this run finished it.

    The row lock (SKIP LOCKED) makes a concurrent finisher skip instead of running twice;
    the state check makes a late duplicate task a no-op.
    """
    with transaction.atomic():
        invocation = (
            ToolInvocation.objects.select_for_update(skip_locked=True)
            .filter(pk=invocation_id, state=InvocationState.DEFERRED)
            .first()
        )
        if invocation is None:
            return False
        spec = get_spec(invocation.name)
        context = invocation.context or {}
        log_kw = {
            "tool": invocation.name,
            "tool_call_id": invocation.tool_call_id,
            "vapi_call_id": invocation.vapi_call_id,
            "event_id": context.get("event_id"),
            "deferred": True,
        }
        if spec is None:
            answer = Answer(error=UNKNOWN_TOOL.format(name=invocation.name), outcome=ToolOutcome.UNAVAILABLE)
        else:
            values, problem = _validate(spec, invocation.arguments or {})
            if values is None:
                answer = Answer(error=problem, outcome=ToolOutcome.INVALID)
            else:
                ctx = ToolContext(
                    tool_call_id=invocation.tool_call_id,
                    vapi_call_id=invocation.vapi_call_id,
                    caller_number=context.get("caller_number") or "",
                    invocation_id=invocation.pk,
                    call_id=invocation.call_id,
                    deadline=None,
                )
                answer = _run_handler(spec, ctx, values, log_kw=log_kw)
        state = InvocationState.FAILED if answer.error else InvocationState.SUCCEEDED
        ToolInvocation.objects.filter(pk=invocation.pk).update(
            state=state,
            result=answer.result,
            error=answer.error,
            outcome=answer.outcome,
            completed_at=timezone.now(),
        )
    log.info("tool_invocation_finished", state=state, **log_kw)
    return True


def tool_invocations_resume_deferred(*, older_than_seconds: float = 60.0, limit: int = 100) -> int:
    """Re-enqueue deferred invocations whose task was lost (broker down, worker crash)."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        ToolInvocation.objects.filter(state=InvocationState.DEFERRED, deferred_at__lt=cutoff)
        .order_by("deferred_at")
        .values_list("pk", flat=True)[:limit]
    )
    for invocation_id in ids:
        _enqueue_finish(invocation_id)
    return len(ids)
