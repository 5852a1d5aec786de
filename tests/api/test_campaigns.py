"""/api/v1/campaigns/: CRUD, validation, deletion rules, recipients."""

from __future__ import annotations

import pytest

from calls.campaigns.services.control import campaign_update
from calls.models import Campaign
from tests.api.conftest import assert_error
from tests.factories import AssistantFactory, CampaignFactory, CampaignRecipientFactory
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db
URL = "/api/v1/campaigns/"


@pytest.fixture
def writer(client_with):
    return client_with(Scope.READ, Scope.CAMPAIGNS_WRITE)


def test_create_is_a_draft(writer):
    assistant = AssistantFactory()
    response = writer.post(
        URL,
        {"name": "Reminders", "assistant": assistant.pk, "window_start": "09:00", "window_end": "18:30:00"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (
        body["state"] == "draft" and body["window_start"] == "09:00:00" and body["window_end"] == "18:30:00"
    )


@pytest.mark.parametrize(
    "patch,field",
    [
        ({"window_start": "20:00", "window_end": "09:00"}, "window_end"),
        ({"starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"}, "ends_at"),
        ({"max_concurrent_calls": 0}, "max_concurrent_calls"),
        ({"retry_policy": {"busy": {"retry": "yes"}}}, "retry_policy"),
        ({"retry_policy": {"exploded": {"retry": True}}}, "retry_policy"),
        ({"retry_policy": {"busy": {"retry": True, "max_attempts": 0}}}, "retry_policy"),
        ({"retry_policy": {"busy": {"retry": True, "max_attempts": "2"}}}, "retry_policy"),
        ({"default_region": "XX"}, "default_region"),
        ({"assistant": 999999}, "assistant"),
        ({"state": "running"}, None),
    ],
)
def test_validation(writer, patch, field):
    assistant = AssistantFactory()
    response = writer.post(URL, {"name": "C", "assistant": assistant.pk, **patch}, format="json")
    if field is None:  # read-only: ignored, the campaign stays a draft
        assert response.status_code == 201 and response.json()["state"] == "draft"
        return
    error = assert_error(response, 400, "validation_error")
    assert field in error["fields"], error


def test_retry_policy_with_per_outcome_max_attempts(writer):
    assistant = AssistantFactory()
    policy = {
        "busy": {"retry": True, "delay_minutes": 30, "max_attempts": 2},
        "not-reached": {"retry": True, "delay_minutes": 60, "max_attempts": None},
    }
    response = writer.post(
        URL, {"name": "C", "assistant": assistant.pk, "retry_policy": policy}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert Campaign.objects.get(pk=response.json()["id"]).retry_policy == policy


def test_patch_validates_against_stored_values(writer):
    campaign = CampaignFactory()  # window 08:00-21:00
    error = assert_error(writer.patch(f"{URL}{campaign.pk}/", {"window_end": "07:00"}, format="json"), 400)
    assert "window_end" in error["fields"]


def test_patch_writes_only_the_fields_sent(writer):
    """The update service saves what the client sent: a pause made meanwhile is not undone."""
    campaign = CampaignFactory(state="running", name="Before")
    stale = Campaign.objects.get(pk=campaign.pk)
    Campaign.objects.filter(pk=campaign.pk).update(state="paused")  # ops pause it meanwhile
    campaign_update(campaign=stale, data={"name": "After"})
    stored = Campaign.objects.get(pk=campaign.pk)
    assert (stored.name, stored.state) == ("After", "paused")
    response = writer.patch(f"{URL}{campaign.pk}/", {"name": "Again"}, format="json")
    assert response.status_code == 200, response.json()
    assert Campaign.objects.values_list("name", "state").get(pk=campaign.pk) == ("Again", "paused")


def test_running_campaign_cannot_be_deleted(writer):
    campaign = CampaignFactory(state="running")
    assert_error(writer.delete(f"{URL}{campaign.pk}/"), 409, "invalid_state")
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_draft_campaign_is_deleted(writer):
    campaign = CampaignFactory()
    assert writer.delete(f"{URL}{campaign.pk}/").status_code == 204


def test_recipients_list_and_filter(reader):
    campaign = CampaignFactory()
    a = CampaignRecipientFactory(campaign=campaign)
    b = CampaignRecipientFactory(campaign=campaign, state="done")
    CampaignRecipientFactory()
    body = reader.get(f"{URL}{campaign.pk}/recipients/").json()
    assert [r["id"] for r in body["results"]] == [a.pk, b.pk]
    assert [
        r["id"] for r in reader.get(f"{URL}{campaign.pk}/recipients/", {"state": "done"}).json()["results"]
    ] == [b.pk]


def test_recipients_of_unknown_campaign_is_404(reader):
    assert_error(reader.get(f"{URL}999999/recipients/"), 404, "not_found")
