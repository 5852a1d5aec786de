"""Celery shells around the tool services: take ids, call one service."""

from __future__ import annotations

from celery import shared_task

from tools.execution import deferred


@shared_task(name="tools.tool_invocation_finish", acks_late=True)
def tool_invocation_finish(invocation_id: int) -> bool:
    """Finish a tool call whose deadline passed while the caller waited."""
    return deferred.tool_invocation_finish(invocation_id=invocation_id)


@shared_task(name="tools.tool_invocations_resume_deferred")
def tool_invocations_resume_deferred() -> int:
    """Beat: re-enqueue deferred tool calls whose task never ran."""
    return deferred.tool_invocations_resume_deferred()
