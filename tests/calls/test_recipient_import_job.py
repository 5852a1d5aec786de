"""Background recipient import: 20,000 rows written in chunks by the worker, progress recorded,
rejected rows listed as in the preview, and a rerun adds nothing twice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from calls.enums import CampaignState
from calls.models import CampaignRecipient, Customer
from tests.calls.campaign_support import make_campaign
from voiceops.console.imports import CHUNK_ROWS, recipient_import_run, recipient_import_start
from voiceops.console.models import RecipientImport

pytestmark = pytest.mark.django_db

ROWS = 20_000


def big_csv(rows: int) -> str:
    # 212-555-01xx style numbers are not all valid; use NANP numbers valid for the US region.
    lines = ["number,name,plan"]
    for i in range(rows):
        lines.append(f"+1646{2000000 + i:07d},Person {i},gold")
    lines.append("not-a-number,Bad Row,x")
    return "\n".join(lines) + "\n"


def test_twenty_thousand_recipients_in_the_background(admin_client, django_capture_on_commit_callbacks):
    campaign = make_campaign(state=CampaignState.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        job = recipient_import_start(campaign=campaign, csv_text=big_csv(ROWS), by="ops-manager")
    job.refresh_from_db()
    assert job.state == RecipientImport.State.DONE and job.percent == 100
    assert (job.total_rows, job.accepted_rows, job.processed_rows) == (ROWS + 1, ROWS, ROWS)
    assert job.created_recipients == ROWS and job.created_customers == ROWS
    assert job.rejected == [
        {"line": ROWS + 2, "number": "not-a-number", "reason": "Invalid number (region US)."}
    ]
    assert job.csv_text == ""  # numbers are not kept after the work
    assert CampaignRecipient.objects.filter(campaign=campaign).count() == ROWS
    # Customers created by the import have a history row naming it.
    customer = Customer.objects.get(number="+16462000000")
    assert customer.history.get().history_change_reason == "recipient import"
    # The status endpoint the progress bar polls.
    status = admin_client.get(
        reverse("admin:calls_campaign_import_status", args=[campaign.pk, job.pk])
    ).json()
    assert status["state"] == "done" and status["percent"] == 100 and status["rejected"] == 1


def test_progress_is_recorded_per_chunk_and_a_rerun_adds_nothing_twice():
    campaign = make_campaign(state=CampaignState.DRAFT)
    rows = CHUNK_ROWS * 2 + 10
    job = RecipientImport.objects.create(campaign=campaign, csv_text=big_csv(rows))
    seen: list[int] = []
    original_save = RecipientImport.save

    def spy(self, *args, **kwargs):
        if kwargs.get("update_fields") and "processed_rows" in kwargs["update_fields"]:
            seen.append(self.processed_rows)
        return original_save(self, *args, **kwargs)

    RecipientImport.save = spy  # type: ignore[method-assign]
    try:
        recipient_import_run(job_id=job.pk)
    finally:
        RecipientImport.save = original_save  # type: ignore[method-assign]
    assert seen == [CHUNK_ROWS, CHUNK_ROWS * 2, rows]
    # A worker that dies after writing runs the job again: nothing is added twice.
    RecipientImport.objects.filter(pk=job.pk).update(state="running", csv_text=big_csv(rows))
    again = recipient_import_run(job_id=job.pk)
    assert CampaignRecipient.objects.filter(campaign=campaign).count() == rows
    assert again.state == "done"


def test_a_cancelled_campaign_fails_the_job_with_the_reason():
    campaign = make_campaign(state=CampaignState.CANCELLED)
    job = RecipientImport.objects.create(campaign=campaign, csv_text="number\n+16462000000\n")
    job = recipient_import_run(job_id=job.pk)
    assert job.state == "failed" and "cancelled campaign" in job.error
    assert not CampaignRecipient.objects.exists()
