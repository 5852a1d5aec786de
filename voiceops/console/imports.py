"""Recipient uploads as background work: validate with the same rules as the preview
(``recipients_import`` dry run), then add the accepted rows in chunks, recording progress."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from calls.campaigns.services.recipients import AcceptedRow, recipients_import
from calls.models import Campaign, CampaignRecipient
from calls.services.customers import customers_import_create, customers_import_update
from voiceops.console.models import RecipientImport
from voiceops.errors import DomainError

log = structlog.get_logger(__name__)
CHUNK_ROWS = 1000
REJECTED_KEPT = 5000


def recipient_import_start(*, campaign: Campaign, csv_text: str, by: str) -> RecipientImport:
    """Store the confirmed CSV and queue the worker (after commit)."""
    from voiceops.console.tasks import recipient_import_task

    job = RecipientImport.objects.create(campaign=campaign, csv_text=csv_text, created_by=by[:150])
    transaction.on_commit(lambda: recipient_import_task.delay(job.pk))
    return job


def _chunks(rows: list[AcceptedRow], size: int) -> Iterator[list[AcceptedRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def recipient_import_run(*, job_id: int) -> RecipientImport:
    """Run one import; safe to run again (existing customers/recipients are left alone)."""
    job = RecipientImport.objects.select_related("campaign").get(pk=job_id)
    if job.state == RecipientImport.State.DONE:
        return job
    job.state = RecipientImport.State.RUNNING
    job.save(update_fields=["state"])
    try:
        report = recipients_import(campaign=job.campaign, csv_text=job.csv_text, dry_run=True)
    except DomainError as exc:
        return _finish(job, state=RecipientImport.State.FAILED, error=exc.message)
    job.total_rows = report.total_rows
    job.accepted_rows = len(report.accepted)
    job.rejected = [
        {"line": r.line, "number": r.number, "reason": r.reason} for r in report.rejected[:REJECTED_KEPT]
    ]
    job.save(update_fields=["total_rows", "accepted_rows", "rejected"])
    for chunk in _chunks(report.accepted, CHUNK_ROWS):
        with transaction.atomic():  # a rerun after a crash finds the chunk whole or absent
            created_customers, created_recipients = _write_chunk(campaign=job.campaign, rows=chunk)
            updated_customers = customers_import_update(rows=chunk)
        job.processed_rows += len(chunk)
        job.created_customers += created_customers
        job.created_recipients += created_recipients
        job.updated_customers += updated_customers
        job.save(
            update_fields=["processed_rows", "created_customers", "created_recipients", "updated_customers"]
        )
    log.info(
        "recipients.import.done",
        campaign_id=job.campaign_id,
        job_id=job.pk,
        added=job.created_recipients,
        rejected=len(report.rejected),
    )
    return _finish(job, state=RecipientImport.State.DONE)


def _finish(job: RecipientImport, *, state: str, error: str = "") -> RecipientImport:
    job.state = state
    job.error = error
    job.finished_at = timezone.now()
    job.csv_text = ""  # phone numbers are not kept longer than the work needs
    job.save(update_fields=["state", "error", "finished_at", "csv_text"])
    return job


def _write_chunk(*, campaign: Campaign, rows: list[AcceptedRow]) -> tuple[int, int]:
    """One transaction per chunk: customers (with history rows), then recipients."""
    with transaction.atomic():
        customers, created_customers = customers_import_create(rows=rows)
        before = CampaignRecipient.objects.filter(campaign=campaign).count()
        recipients: list[Any] = [
            CampaignRecipient(
                campaign=campaign,
                customer=customers[row.number],
                number=row.number,
                name=row.name or customers[row.number].name,
                time_zone=row.time_zone,
                variables=row.variables,
            )
            for row in rows
            if row.number in customers
        ]
        CampaignRecipient.objects.bulk_create(recipients, ignore_conflicts=True)
        after = CampaignRecipient.objects.filter(campaign=campaign).count()
    return created_customers, after - before
