"""Celery tasks of the console."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="console.recipient_import", acks_late=True)
def recipient_import_task(job_id: int) -> None:
    from voiceops.console.imports import recipient_import_run

    recipient_import_run(job_id=job_id)
