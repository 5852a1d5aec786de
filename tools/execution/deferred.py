"""Deferred tool calls: finished by a Celery task after the caller heard the holding sentence."""

from __future__ import annotations

import datetime as dt

import structlog
from django.db import transaction
from django.utils import timezone

from tools.execution.handler import arguments_validate, run_handler
from tools.execution.types import UNKNOWN_TOOL, Answer
from tools.models import InvocationState, ToolInvocation, ToolOutcome
from tools.registry import ToolContext, get_spec

log = structlog.get_logger("tools.execution")  # one logger name for the whole package


def enqueue_finish(invocation_id: int) -> None:
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
            values, problem = arguments_validate(spec, invocation.arguments or {})
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
                answer = run_handler(spec, ctx, values, log_kw=log_kw)
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
        enqueue_finish(invocation_id)
    return len(ids)
