"""Background recipient import: 20,000 rows written in chunks by the worker, progress recorded,
rejected rows listed as in the preview, and a rerun adds nothing twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from calls.campaigns.services.recipients import recipients_import
from calls.enums import CampaignState
from calls.models import CampaignRecipient, Customer
from calls.services.customers import customers_import_update
from tests.calls.campaign_support import make_campaign
from tests.factories import CustomerFactory
from voiceops.console.imports import (
    CHUNK_ROWS,
    recipient_import_run,
    recipient_import_start,
)
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


@pytest.mark.volume
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


KNOWN_CSV = """number,name,timezone,plan
+12125550101,Marcus Lee,America/Chicago,gold
+12125550102,,America/Denver,gold
+12125550103,Ann Same,,gold
+16462000999,New Person,,gold
"""


def test_known_customers_get_name_and_time_zone_from_the_file_with_history(
    admin_client, django_capture_on_commit_callbacks
):
    campaign = make_campaign(state=CampaignState.DRAFT)
    consented = timezone.now() - dt.timedelta(days=3)
    lee = CustomerFactory(
        number="+12125550101",
        name="M. Lee",
        time_zone="",
        consent=True,
        consent_source="web form",
        consent_at=consented,
        do_not_call_reason="asked in 2025, then called back",
        do_not_call_source="api",
    )
    moved = CustomerFactory(number="+12125550102", name="Kim Park", time_zone="America/New_York")
    # No timezone cell: the zone inferred from the number is not the row's word; nothing changes.
    same = CustomerFactory(number="+12125550103", name="Ann Same", time_zone="America/Los_Angeles")
    url = reverse("admin:calls_campaign_upload", args=[campaign.pk])
    upload = SimpleUploadedFile("r.csv", KNOWN_CSV.encode(), content_type="text/csv")

    # The preview says which known customers the file will change, and how.
    preview = admin_client.post(url, {"file": upload}).content.decode()
    assert "2 known customers will be updated" in preview
    assert "Known; will set name to Marcus Lee, time zone to America/Chicago" in preview
    assert "Known; will set time zone to America/Denver" in preview
    assert preview.count("<td>Known</td>") == 1 and preview.count("<td>New</td>") == 1
    lee.refresh_from_db()
    assert lee.name == "M. Lee"  # a preview writes nothing

    # Confirm: the worker writes it (the eager task runs on commit), then a rerun changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"confirm": "1", "csv_text": KNOWN_CSV})
    job = RecipientImport.objects.get(campaign=campaign)
    assert response.status_code == 302 and job.state == RecipientImport.State.DONE
    assert (job.created_recipients, job.created_customers, job.updated_customers) == (4, 1, 2)
    lee.refresh_from_db()
    moved.refresh_from_db()
    same.refresh_from_db()
    assert (lee.name, lee.time_zone) == ("Marcus Lee", "America/Chicago")
    assert (moved.name, moved.time_zone) == ("Kim Park", "America/Denver")  # an empty name keeps hers
    assert (same.name, same.time_zone) == ("Ann Same", "America/Los_Angeles")
    assert (lee.consent, lee.consent_source, lee.consent_at) == (True, "web form", consented)
    assert (lee.do_not_call, lee.do_not_call_source, lee.do_not_call_reason) == (
        False,
        "api",
        "asked in 2025, then called back",
    )
    change = lee.history.latest()
    assert (change.history_type, change.history_change_reason) == ("~", "recipient import")
    assert [c.field for c in change.diff_against(change.prev_record).changes] == ["name", "time_zone"]
    assert change.prev_record.name == "M. Lee" and change.consent_source == "web form"
    assert not same.history.filter(history_change_reason="recipient import").exists()
    status = admin_client.get(reverse("admin:calls_campaign_import_status", args=[campaign.pk, job.pk]))
    assert status.json()["updated_customers"] == 2
    page = admin_client.get(reverse("admin:calls_campaign_import", args=[campaign.pk, job.pk]))
    assert 'id="import-updated">2</span> known customers updated' in page.content.decode()


def test_an_opt_out_made_after_the_preview_is_kept_and_recorded_as_it_is():
    campaign = make_campaign(state=CampaignState.DRAFT)
    lee = CustomerFactory(number="+12125550101", name="M. Lee", time_zone="")
    job = RecipientImport.objects.create(campaign=campaign, csv_text="number,name\n+12125550101,Marcus Lee\n")
    # The customer opts out between the confirm and the worker: the row is rejected, nothing written.
    Customer.objects.filter(pk=lee.pk).update(
        do_not_call=True, do_not_call_at=timezone.now(), do_not_call_source="tool"
    )
    job = recipient_import_run(job_id=job.pk)
    lee.refresh_from_db()
    assert (job.updated_customers, lee.name, lee.do_not_call_source) == (0, "M. Lee", "tool")
    # Consent given meanwhile: the update writes only the name and the history shows the consent.
    other = CustomerFactory(number="+12125550102", name="Old", time_zone="")
    rows = recipients_import(campaign=campaign, csv_text="number,name\n+12125550102,New\n", dry_run=True)
    Customer.objects.filter(pk=other.pk).update(consent=True, consent_at=timezone.now(), consent_source="sms")
    assert customers_import_update(rows=rows.accepted) == 1
    other.refresh_from_db()
    assert (other.name, other.consent, other.consent_source) == ("New", True, "sms")
    assert other.history.latest().consent_source == "sms"
