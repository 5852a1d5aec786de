"""The campaign admin: buttons call the services, CSV upload previews then confirms, errors are messages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from calls.enums import CampaignState
from calls.models import CampaignRecipient, OutboundSwitch
from tests.calls.campaign_support import add_recipient, make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client):
    return admin_client


def test_change_page_shows_progress_and_buttons(staff):
    campaign = make_campaign(state=CampaignState.PAUSED)
    add_recipient(campaign)
    response = staff.get(reverse("admin:calls_campaign_change", args=[campaign.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="campaign-progress"' in body and "Pending: 1" in body
    assert 'value="Resume"' in body and 'value="Start"' not in body


def test_control_buttons_call_services_and_report_invalid_state(staff):
    campaign = make_campaign(state=CampaignState.RUNNING)
    add_recipient(campaign)
    url = reverse("admin:calls_campaign_control", args=[campaign.pk, "pause"])
    response = staff.post(url, follow=True)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED and "admin" in campaign.state_reason
    assert "now paused" in response.content.decode()
    response = staff.post(url, follow=True)  # pausing twice: an error message, not a 500
    assert response.status_code == 200 and "cannot be paused" in response.content.decode()
    assert (
        staff.post(reverse("admin:calls_campaign_control", args=[campaign.pk, "explode"])).status_code == 302
    )


def test_upload_previews_then_confirms(staff, django_capture_on_commit_callbacks):
    campaign = make_campaign(state=CampaignState.DRAFT)
    url = reverse("admin:calls_campaign_upload", args=[campaign.pk])
    csv_bytes = b"number,name,plan\n+14155550100,Dana,gold\nnope,Bad,x\n"
    response = staff.post(url, {"file": SimpleUploadedFile("r.csv", csv_bytes, content_type="text/csv")})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="rejected-rows"' in body and "Invalid number" in body
    assert "Confirm: add 1 recipients" in body and not CampaignRecipient.objects.exists()
    csv_text = response.context["form"].initial["csv_text"]
    # Confirming queues a background import (run here by eager Celery) and shows its progress.
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url, {"csv_text": csv_text, "confirm": "1"})
    assert response.status_code == 302 and "/imports/" in response["Location"]
    page = staff.get(response["Location"]).content.decode()
    assert 'id="import-progress" max="100" value="100"' in page and "Done" in page
    assert "Invalid number" in page  # the same per-row errors as the preview
    assert CampaignRecipient.objects.get(campaign=campaign).variables == {"plan": "gold"}


def test_upload_errors_are_form_errors(staff):
    campaign = make_campaign(state=CampaignState.DRAFT)
    url = reverse("admin:calls_campaign_upload", args=[campaign.pk])
    response = staff.post(url, {"file": SimpleUploadedFile("r.csv", b"phone\n1\n")})
    assert response.status_code == 200 and "&#x27;number&#x27; column" in response.content.decode()
    response = staff.post(url, {})
    assert response.status_code == 200 and "Choose a CSV file" in response.content.decode()


def test_kill_switch_toggle(staff):
    response = staff.post(reverse("admin:calls_campaign_kill_switch"), {"paused": "1"}, follow=True)
    assert response.status_code == 200
    switch = OutboundSwitch.objects.get()
    assert switch.paused and switch.changed_by == "admin"
    body = response.content.decode()
    assert "All outbound calling is paused." in body and "ALL OUTBOUND PAUSED" in body
    staff.post(reverse("admin:calls_campaign_kill_switch"), {"paused": "0"})
    assert not OutboundSwitch.objects.get().paused
    assert staff.get(reverse("admin:calls_campaign_kill_switch")).status_code == 403


def test_invalid_window_and_retry_policy_are_form_errors(staff):
    campaign = make_campaign(state=CampaignState.DRAFT)
    url = reverse("admin:calls_campaign_change", args=[campaign.pk])
    data = {
        "name": "X",
        "assistant": campaign.assistant_id,
        "phone_number": campaign.phone_number_id,
        "max_concurrent_calls": 0,
        "max_calls_per_minute": 5,
        "window_start": "21:00",
        "window_end": "08:00",
        "retry_busy": "on",
        "retry_busy_delay": "-5",
        "retry_no_answer_delay": "soon",
        "retry_voicemail_delay": "240",
        "retry_not_reached_delay": "60",
        "retry_failed_delay": "60",
        "max_attempts": 3,
        "default_region": "US",
    }
    response = staff.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "window_end" in errors and "max_concurrent_calls" in errors
    assert "retry_busy_delay" in errors and "retry_no_answer_delay" in errors
    campaign.refresh_from_db()
    assert campaign.retry_policy["busy"] == {
        "retry": True,
        "delay_minutes": 30,
        "max_attempts": None,
    }  # nothing stored


def policy_form(campaign, **changes) -> dict:
    """A valid campaign form post with a retry policy; ``changes`` replace fields."""
    data = {
        "name": "X",
        "assistant": campaign.assistant_id,
        "phone_number": campaign.phone_number_id,
        "max_concurrent_calls": 2,
        "max_calls_per_minute": 5,
        "window_start": "08:00",
        "window_end": "21:00",
        "retry_busy": "on",
        "retry_busy_delay": "15",
        "retry_busy_max": "2",
        "retry_no_answer_delay": "90",
        "retry_voicemail_delay": "0",
        "retry_not_reached": "on",
        "retry_not_reached_delay": "45",
        "retry_failed": "on",
        "retry_failed_delay": "60",
        "max_attempts": 4,
        "reached_min_seconds": 15,
        "default_region": "US",
    }
    return {**data, **changes}


def test_retry_policy_is_a_form_per_outcome(staff):
    campaign = make_campaign(state=CampaignState.DRAFT)
    url = reverse("admin:calls_campaign_change", args=[campaign.pk])
    page = staff.get(url).content.decode()
    assert 'name="retry_busy"' in page and 'name="retry_voicemail_delay"' in page
    assert 'name="retry_policy"' not in page  # no raw JSON textarea
    data = policy_form(campaign)
    response = staff.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert campaign.retry_policy == {
        "busy": {"retry": True, "delay_minutes": 15, "max_attempts": 2},
        "no-answer": {"retry": False, "delay_minutes": 90, "max_attempts": None},
        "voicemail": {"retry": False, "delay_minutes": 0, "max_attempts": None},
        "not-reached": {"retry": True, "delay_minutes": 45, "max_attempts": None},
        "failed": {"retry": True, "delay_minutes": 60, "max_attempts": None},
    }
    # The control room states the policy in words, the busy cap included.
    page = staff.get(url).content.decode()
    assert 'name="retry_busy_max" value="2"' in page
    policy = page.split('id="retry-policy"')[1].split("</table>")[0]
    assert "Busy</td><td>Yes</td><td>15 min</td><td>2 attempts ending this way" in policy
    assert "Voicemail</td><td>No</td>" in policy and "4 attempts</td>" in policy


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "greater than or equal to 1"),
        ("21", "less than or equal to 20"),
        ("twice", "Enter a whole number"),
    ],
)
def test_a_bad_per_outcome_max_attempts_is_a_form_error(staff, value, message):
    campaign = make_campaign(state=CampaignState.DRAFT)
    url = reverse("admin:calls_campaign_change", args=[campaign.pk])
    data = policy_form(campaign, retry_busy_max=value)
    response = staff.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["retry_busy_max"] and message in errors["retry_busy_max"][0]
    assert "errorlist" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.retry_policy["busy"]["max_attempts"] is None  # nothing stored


def test_progress_panel_refreshes_while_running_and_counts_finished_recipients(staff):
    campaign = make_campaign(state=CampaignState.RUNNING)
    add_recipient(campaign)
    done = add_recipient(campaign)
    CampaignRecipient.objects.filter(pk=done.pk).update(state="done")
    page = staff.get(reverse("admin:calls_campaign_change", args=[campaign.pk])).content.decode()
    progress_url = reverse("admin:calls_campaign_progress", args=[campaign.pk])
    assert f'data-refresh-url="{progress_url}"' in page and "calls/admin/progress.js" in page
    panel = staff.get(progress_url)
    body = panel.content.decode()
    assert panel.status_code == 200
    assert '<progress id="campaign-progress-bar" value="1" max="2">' in body
    assert "1 of 2 recipients finished" in body and "Pending: 1" in body


def test_finished_campaign_page_does_not_poll(staff):
    campaign = make_campaign(state=CampaignState.COMPLETED)
    add_recipient(campaign)
    page = staff.get(reverse("admin:calls_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="campaign-progress-panel"' in page and "data-refresh-url" not in page


def test_kill_switch_never_redirects_off_site(staff):
    response = staff.post(
        reverse("admin:calls_campaign_kill_switch"), {"paused": "0", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:calls_campaign_changelist")
