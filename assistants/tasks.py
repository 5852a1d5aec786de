"""Celery tasks for assistants: thin shells that load by id, call one service, own the retries."""

from __future__ import annotations

import structlog
from celery import shared_task
from django.conf import settings

from assistants.models import Assistant

log = structlog.get_logger(__name__)

PUSH_BACKOFF_BASE = 10  # seconds; 10, 20, 40, ... capped below
PUSH_BACKOFF_MAX = 300


@shared_task(bind=True, max_retries=None, acks_late=True, ignore_result=True)
def assistant_push_task(self, assistant_id: int) -> str:
    """Push one assistant. Retries 429/5xx/timeouts with exponential backoff (honouring
    Retry-After), ``ASSISTANT_PUSH_MAX_RETRIES`` times, then leaves it ``failed`` with the reason."""
    from assistants.services.push import AssistantPushError, assistant_push

    assistant = Assistant.objects.filter(pk=assistant_id).first()
    if assistant is None:
        log.info("assistants.push_task.gone", assistant_id=assistant_id)
        return "missing"
    retries = self.request.retries or 0
    final = retries >= settings.ASSISTANT_PUSH_MAX_RETRIES
    try:
        result = assistant_push(assistant=assistant, final_attempt=final)
    except AssistantPushError as exc:
        if exc.retryable and not final:
            countdown = min(PUSH_BACKOFF_MAX, max(exc.retry_after or 0, PUSH_BACKOFF_BASE * 2**retries))
            raise self.retry(countdown=countdown, exc=exc)
        return "failed"
    return result.action


@shared_task(ignore_result=True)
def assistants_drift_check_task() -> dict[str, int]:
    """Periodic: compare Vapi's copy of every pushed assistant with what we pushed; re-enqueue
    pushes left pending (broker was down when they were requested)."""
    from assistants.services.drift import assistants_drift_check
    from assistants.services.push import assistants_requeue_stale_pending

    counts = assistants_drift_check()
    counts["requeued"] = assistants_requeue_stale_pending()
    return counts
