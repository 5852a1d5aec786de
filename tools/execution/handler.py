"""Running a tool's handler: argument validation, the deadline's savepoint, failures as spoken answers."""

from __future__ import annotations

from typing import Any

import structlog
from django.db import DatabaseError, connection, transaction

from tools.execution.ledger import HANDLER_SAVEPOINT, is_timeout
from tools.execution.types import APOLOGY, Answer
from tools.models import ToolOutcome
from tools.registry import DeadlineExceeded, ToolContext, ToolSpec
from tools.speech import encode_result, one_line, validation_sentence
from voiceops.errors import DomainError, NotFound
from voiceops.sqlbatch import SqlBatch

log = structlog.get_logger("tools.execution")  # one logger name for the whole package


def arguments_validate(spec: ToolSpec, arguments: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
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
    if isinstance(error, DatabaseError) and ctx.deadline is not None and is_timeout(error):
        raise DeadlineExceeded() from error
    log.exception("tool_handler_failed", exc_info=error, **log_kw)
    return Answer(error=APOLOGY, outcome=ToolOutcome.ERROR)


def run_handler(
    spec: ToolSpec, ctx: ToolContext, values: dict[str, Any], *, log_kw: dict[str, Any]
) -> Answer:
    """In a worker: the handler in a savepoint of its own, so its writes vanish if it fails."""
    try:
        with transaction.atomic():
            value = spec.handler(ctx, values)
        return Answer(result=encode_result(value), outcome=ctx.outcome)
    except Exception as error:  # noqa: BLE001 - any handler bug becomes an apology, never a 500
        return _failure_answer(error, ctx, log_kw=log_kw)


def run_handler_in_request(
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
        rollback = f"ROLLBACK TO SAVEPOINT {HANDLER_SAVEPOINT}"
        if isinstance(error, DatabaseError):
            with connection.cursor() as cursor:
                cursor.execute(rollback)
        else:
            sql.add(rollback)
        return _failure_answer(error, ctx, log_kw=log_kw)
