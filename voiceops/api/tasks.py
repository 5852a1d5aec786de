"""Celery tasks of the API: housekeeping only."""

from __future__ import annotations

from celery import shared_task

from voiceops.api.idempotency import idempotency_records_purge


@shared_task(name="voiceops.api.tasks.idempotency_records_purge_task", ignore_result=True)
def idempotency_records_purge_task() -> int:
    return idempotency_records_purge()
