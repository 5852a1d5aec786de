"""Periodic retention purge (scheduled in CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from voiceops.retention.models import RetentionPurge
from voiceops.retention.services import retention_purge_expired


@shared_task(name="retention.purge_expired_data", acks_late=True, ignore_result=True)
def retention_purge_task() -> int:
    """Idempotent: a redelivered or overlapping run finds only what is still left to purge."""
    return retention_purge_expired(triggered_by=RetentionPurge.Trigger.TASK).id
