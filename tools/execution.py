"""Running one tool call exactly once, within its deadline, and recording the answer.

Idempotency: the ``ToolInvocation`` row is claimed with ``INSERT ... ON CONFLICT DO NOTHING``
in the same transaction that runs the handler and records its answer. A second delivery
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
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

import structlog
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg import errors as pg_errors

from tools.models import InvocationState, ToolInvocation
from tools.registry import DeadlineExceeded, ToolContext, ToolSpec, get_spec
from tools.speech import encode_result, one_line, validation_sentence
from voiceops.errors import DomainError
from voiceops.logging import mask_number

log = structlog.get_logger(__name__)

APOLOGY = "Sorry, something went wrong on my side with that request. Please try again in a moment."
HOLDING = "I'm still working on that; it is taking a little longer. Please give me a moment and ask me again."
UNKNOWN_TOOL = "I can't do that: the tool {name} does not exist."
DISABLED_TOOL = "I can't do that right now: the tool {name} is switched off."


@dataclass
class ToolRuntime:
    """Per-message facts shared by every tool call in it."""

    vapi_call_id: str
    caller_number: str
    event_id: int | None = None


@dataclass
class Answer:
    result: str = ""
    error: str = ""


_CLAIM_SQL = """
INSERT INTO tools_toolinvocation
    (tool_call_id, call_id, vapi_call_id, name, arguments, state, result, error, context, created_at)
VALUES (%s, (SELECT id FROM calls_call WHERE vapi_id = %s AND %s <> ''),
        %s, %s, %s::jsonb, %s, '', '', %s::jsonb, now())
ON CONFLICT (tool_call_id) DO NOTHING
RETURNING id, call_id, (
    SELECT prior.id FROM tools_toolinvocation prior
    WHERE %s <> '' AND prior.vapi_call_id = %s AND prior.name = %s AND prior.arguments = %s::jsonb
      AND prior.deferred_at IS NOT NULL
    ORDER BY prior.id DESC LIMIT 1
)
"""


def _claim(
    *, runtime: ToolRuntime, tool_call_id: str, name: str, arguments: dict[str, Any]
) -> tuple[int, int | None, int | None] | None:
    """Insert the invocation row, or None when this toolCallId already has one.

    The RETURNING clause also links the Call (by Vapi id) and finds an earlier *deferred*
    invocation of the same tool with the same arguments in this call, so "ask me again"
    after a holding answer returns the finished work instead of doing it twice.
    """
    args_json = json.dumps(arguments, ensure_ascii=False, default=str)
    context = json.dumps({"caller_number": runtime.caller_number, "event_id": runtime.event_id})
    vid = runtime.vapi_call_id
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            [
                tool_call_id,
                vid,
                vid,
                vid,
                name,
                args_json,
                InvocationState.RUNNING,
                context,
                vid,
                vid,
                name,
                args_json,
            ],
        )
        row = cursor.fetchone()
    return (row[0], row[1], row[2]) if row else None


def _set_timeouts(seconds: float) -> None:
    """Bound every statement and lock wait of this transaction by the tool's remaining time."""
    ms = max(1, int(seconds * 1000))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
            [f"{ms}ms", f"{ms}ms"],
        )


def _reset_timeouts() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout TO DEFAULT; SET LOCAL lock_timeout TO DEFAULT")


def _is_timeout(error: BaseException) -> bool:
    cause = error.__cause__ if isinstance(error, DatabaseError) else error
    return isinstance(cause, pg_errors.QueryCanceled | pg_errors.LockNotAvailable)


def _recorded_answer(tool_call_id: str) -> Answer:
    row = ToolInvocation.objects.filter(tool_call_id=tool_call_id).values("state", "result", "error").first()
    if row is None or row["state"] in (InvocationState.RUNNING, InvocationState.DEFERRED):
        return Answer(result=HOLDING)
    return Answer(result=row["result"], error=row["error"])


def _record(
    invocation_id: int, answer: Answer, *, state: str, started: float | None, deferred: bool = False
) -> None:
    now = timezone.now()
    fields: dict[str, Any] = {"state": state, "result": answer.result, "error": answer.error}
    if started is not None:
        fields["latency_ms"] = round((time.monotonic() - started) * 1000, 3)
    if deferred:
        fields["deferred_at"] = now
    else:
        fields["completed_at"] = now
    ToolInvocation.objects.filter(pk=invocation_id).update(**fields)


def _validate(spec: ToolSpec, arguments: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    serializer = spec.arguments(data=arguments)
    if serializer.is_valid():
        return dict(serializer.validated_data), ""
    labels = {name: str(f.label or name.replace("_", " ")).lower() for name, f in serializer.fields.items()}
    return None, validation_sentence(serializer.errors, labels)


def _run_handler(
    spec: ToolSpec, ctx: ToolContext, values: dict[str, Any], *, log_kw: dict[str, Any]
) -> Answer:
    """The handler in a savepoint: its writes vanish if it fails or runs out of time.

    Raises DeadlineExceeded when the deadline stopped it (the caller defers).
    """
    try:
        with transaction.atomic():
            value = spec.handler(ctx, values)
        return Answer(result=encode_result(value))
    except DeadlineExceeded:
        raise
    except DomainError as error:
        return Answer(error=one_line(error.message))
    except DatabaseError as error:
        if ctx.deadline is not None and _is_timeout(error):
            raise DeadlineExceeded() from error
        log.exception("tool_handler_failed", **log_kw)
        return Answer(error=APOLOGY)
    except Exception:  # noqa: BLE001 - any handler bug becomes an apology, never a 500
        log.exception("tool_handler_failed", **log_kw)
        return Answer(error=APOLOGY)


def invocation_answer(
    *,
    runtime: ToolRuntime,
    tool_call_id: str,
    name: str,
    arguments: dict[str, Any],
    arguments_error: str,
    spec: ToolSpec | None,
    known: bool,
    timeout_seconds: float,
) -> Answer:
    """Claim, run and record one tool call; a repeat returns what was recorded."""
    started = time.monotonic()
    deadline = started + timeout_seconds
    log_kw = {
        "tool": name,
        "tool_call_id": tool_call_id,
        "vapi_call_id": runtime.vapi_call_id,
        "event_id": runtime.event_id,
        "caller": mask_number(runtime.caller_number),
    }
    nested = connection.in_atomic_block
    deferred_id: int | None = None
    try:
        with transaction.atomic():
            # Bounds the handler's statements and a duplicate's wait on the first delivery's claim.
            _set_timeouts(timeout_seconds)
            claim = _claim(runtime=runtime, tool_call_id=tool_call_id, name=name, arguments=arguments)
            if claim is None:
                answer = _recorded_answer(tool_call_id)
                log.info("tool_call_repeat", **log_kw)
            else:
                invocation_id, call_id, prior_deferred = claim
                answer, state = _answer_claimed(
                    spec=spec,
                    known=known,
                    name=name,
                    arguments=arguments,
                    arguments_error=arguments_error,
                    prior_deferred=prior_deferred,
                    ctx=ToolContext(
                        tool_call_id=tool_call_id,
                        vapi_call_id=runtime.vapi_call_id,
                        caller_number=runtime.caller_number,
                        invocation_id=invocation_id,
                        call_id=call_id,
                        deadline=deadline,
                    ),
                    log_kw=log_kw,
                )
                deferred = state == InvocationState.DEFERRED
                _record(invocation_id, answer, state=state, started=started, deferred=deferred)
                if deferred:
                    deferred_id = invocation_id
                    transaction.on_commit(lambda: _enqueue_finish(invocation_id))
            if nested:
                _reset_timeouts()
    except DatabaseError as error:
        # Most often: a duplicate delivery waited on the first one past the deadline.
        if _is_timeout(error):
            log.info("tool_call_wait_timeout", **log_kw)
            return Answer(result=HOLDING)
        log.exception("tool_call_record_failed", **log_kw)
        return Answer(error=APOLOGY)
    if deferred_id is not None:
        log.warning("tool_call_deferred", invocation_id=deferred_id, **log_kw)
    return answer


def _answer_claimed(
    *,
    spec: ToolSpec | None,
    known: bool,
    name: str,
    arguments: dict[str, Any],
    arguments_error: str,
    prior_deferred: int | None,
    ctx: ToolContext,
    log_kw: dict[str, Any],
) -> tuple[Answer, str]:
    if spec is None:
        template = DISABLED_TOOL if known else UNKNOWN_TOOL
        log.info("tool_unavailable", known=known, **log_kw)
        return Answer(error=template.format(name=name)), InvocationState.FAILED
    if arguments_error:
        return Answer(error=arguments_error), InvocationState.FAILED
    values, problem = _validate(spec, arguments)
    if values is None:
        log.info("tool_arguments_invalid", problem=problem, **log_kw)
        return Answer(error=problem), InvocationState.FAILED
    if prior_deferred is not None:
        return _answer_from_prior(prior_deferred), InvocationState.SUCCEEDED
    try:
        answer = _run_handler(spec, ctx, values, log_kw=log_kw)
    except DeadlineExceeded:
        return Answer(result=HOLDING), InvocationState.DEFERRED
    return answer, (InvocationState.FAILED if answer.error else InvocationState.SUCCEEDED)


def _answer_from_prior(prior_id: int) -> Answer:
    row = ToolInvocation.objects.filter(pk=prior_id).values("state", "result", "error").first()
    if row is None or row["state"] in (InvocationState.RUNNING, InvocationState.DEFERRED):
        return Answer(result=HOLDING)
    return Answer(result=row["result"], error=row["error"])


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
            answer = Answer(error=UNKNOWN_TOOL.format(name=invocation.name))
        else:
            values, problem = _validate(spec, invocation.arguments or {})
            if values is None:
                answer = Answer(error=problem)
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
            state=state, result=answer.result, error=answer.error, completed_at=timezone.now()
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
