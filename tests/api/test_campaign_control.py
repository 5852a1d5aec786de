"""Campaign control, progress and the CSV upload with its validation report."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from calls.models import CampaignRecipient
from tests.api.conftest import assert_error
from tests.calls.campaign_support import make_campaign
from tests.factories import CampaignRecipientFactory
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db
URL = "/api/v1/campaigns/"
CSV = "number,name,timezone,plan\n+14155550140,Ada,America/Los_Angeles,gold\nnot-a-number,Bob,,\n"


@pytest.fixture
def writer(client_with):
    return client_with(Scope.READ, Scope.CAMPAIGNS_WRITE)


def test_start_pause_resume_cancel(writer):
    campaign = make_campaign(state="draft")
    CampaignRecipientFactory(campaign=campaign)
    for action, state in [
        ("start", "running"),
        ("pause", "paused"),
        ("resume", "running"),
        ("cancel", "cancelled"),
    ]:
        response = writer.post(f"{URL}{campaign.pk}/{action}/")
        assert response.status_code == 200, response.json()
        assert response.json()["state"] == state
    assert "api:" in response.json()["state_reason"] or response.json()["state_reason"]


def test_invalid_transition_is_409(writer):
    campaign = make_campaign(state="draft")
    assert_error(writer.post(f"{URL}{campaign.pk}/pause/"), 409, "invalid_state")


def test_start_without_recipients_is_409_with_reason(writer):
    campaign = make_campaign(state="draft")
    error = assert_error(writer.post(f"{URL}{campaign.pk}/start/"), 409, "invalid_state")
    assert "no recipients" in error["message"]


def test_progress(reader):
    campaign = make_campaign(state="draft")
    CampaignRecipientFactory(campaign=campaign)
    body = reader.get(f"{URL}{campaign.pk}/progress/").json()
    assert body["recipients"] == 1 and body["remaining"] == 1


def test_upload_dry_run_reports_rows_and_adds_nothing(writer):
    campaign = make_campaign(state="draft")
    response = writer.post(
        f"{URL}{campaign.pk}/recipients/upload/", {"csv": CSV, "dry_run": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["dry_run"] is True and report["accepted_count"] == 1 and report["rejected_count"] == 1
    assert report["rejected"][0]["line"] == 3 and report["rejected"][0]["reason"]
    assert not CampaignRecipient.objects.filter(campaign=campaign).exists()


def test_upload_adds_accepted_rows(writer):
    campaign = make_campaign(state="draft")
    response = writer.post(f"{URL}{campaign.pk}/recipients/upload/", {"csv": CSV}, format="json")
    assert response.status_code == 201 and response.json()["created_recipients"] == 1
    recipient = CampaignRecipient.objects.get(campaign=campaign)
    assert str(recipient.number) == "+14155550140" and recipient.variables == {"plan": "gold"}


def test_upload_as_text_csv_and_as_file(writer):
    campaign = make_campaign(state="draft")
    url = f"{URL}{campaign.pk}/recipients/upload/"
    response = writer.post(f"{url}?dry_run=true", data=CSV, content_type="text/csv")
    assert response.status_code == 200 and response.json()["accepted_count"] == 1
    upload = SimpleUploadedFile("r.csv", CSV.encode(), content_type="text/csv")
    response = writer.post(url, {"file": upload, "dry_run": "false"}, format="multipart")
    assert response.status_code == 201 and response.json()["created_recipients"] == 1


def test_upload_errors(writer):
    campaign = make_campaign(state="cancelled")
    url = f"{URL}{campaign.pk}/recipients/upload/"
    assert_error(writer.post(url, {"csv": CSV}, format="json"), 409, "invalid_state")
    draft = make_campaign(state="draft")
    durl = f"{URL}{draft.pk}/recipients/upload/"
    assert "csv" in assert_error(writer.post(durl, {}, format="json"), 400)["fields"]
    assert_error(writer.post(durl, {"csv": "   "}, format="json"), 422, "csv_empty")
    bad = SimpleUploadedFile("r.csv", b"\xff\xfe\x00bad", content_type="text/csv")
    assert "file" in assert_error(writer.post(durl, {"file": bad}, format="multipart"), 400)["fields"]


def test_upload_needs_campaigns_write(reader):
    campaign = make_campaign(state="draft")
    assert_error(reader.post(f"{URL}{campaign.pk}/recipients/upload/", {"csv": CSV}, format="json"), 403)


def test_start_with_idempotency_key_replays_instead_of_409(writer):
    campaign = make_campaign(state="draft")
    CampaignRecipientFactory(campaign=campaign)
    url = f"{URL}{campaign.pk}/start/"
    first = writer.post(url, HTTP_IDEMPOTENCY_KEY="start-1")
    again = writer.post(url, HTTP_IDEMPOTENCY_KEY="start-1")
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert_error(writer.post(url), 409, "invalid_state")  # without the key: already running
