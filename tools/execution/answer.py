"""Answering one tool call of a message: claim, follow-up of a deferred run, handler, record."""

from __future__ import annotations

import time
from typing import Any

import structlog
from django.db import DatabaseError, transaction

from tools.execution.deferred import enqueue_finish
from tools.execution.handler import arguments_validate, run_handler_in_request
from tools.execution.ledger import (
    claim_closed,
    invocation_claim,
    invocation_record,
    is_timeout,
    recorded_answer,
)
from tools.execution.types import APOLOGY, DISABLED_TOOL, HOLDING, UNKNOWN_TOOL, Answer, Follow, ToolRuntime
from tools.models import InvocationState, ToolInvocation, ToolOutcome
from tools.registry import DEFAULT_TIMEOUT_SECONDS, DeadlineExceeded, ToolContext, ToolSpec
from voiceops.logging import mask_number
from voiceops.sqlbatch import SqlBatch

log = structlog.get_logger("tools.execution")  # one logger name for the whole package


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
        claim = invocation_claim(
            runtime=runtime,
            tool_call_id=tool_call_id,
            name=name,
            arguments=arguments,
            default_timeout=default_timeout,
        )
    except DatabaseError as error:
        # Most often: a duplicate delivery waited on the first one past the deadline.
        if is_timeout(error):
            log.info("tool_call_wait_timeout", **log_kw)
            return Answer(result=HOLDING, outcome=ToolOutcome.PENDING)
        log.exception("tool_call_record_failed", **log_kw)
        return Answer(error=APOLOGY, outcome=ToolOutcome.ERROR)
    if claim is None:
        claim_closed(runtime.sql)
        log.info("tool_call_repeat", **log_kw)
        return recorded_answer(runtime=runtime, tool_call_id=tool_call_id)
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
    invocation_record(runtime.sql, claim.invocation_id, answer, state=state, started=started, follow=follow)
    if state == InvocationState.DEFERRED:
        invocation_id = claim.invocation_id
        transaction.on_commit(lambda: enqueue_finish(invocation_id))
        log.warning("tool_call_deferred", invocation_id=invocation_id, **log_kw)
    return answer


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
    values, problem = arguments_validate(spec, arguments)
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
        answer = run_handler_in_request(spec, ctx, values, sql=sql, log_kw=log_kw)
    except DeadlineExceeded:
        return pending, InvocationState.DEFERRED, None
    return answer, (failed if answer.error else InvocationState.SUCCEEDED), None


def _answer_from_prior(prior_id: int) -> tuple[Answer, bool]:
    """The deferred run's answer when it has finished (True: delivered now), else holding again."""
    row = ToolInvocation.objects.filter(pk=prior_id).values("state", "result", "error", "outcome").first()
    if row is None or row["state"] in (InvocationState.RUNNING, InvocationState.DEFERRED):
        return Answer(result=HOLDING, outcome=ToolOutcome.PENDING), False
    return Answer(result=row["result"], error=row["error"], outcome=row["outcome"]), True
