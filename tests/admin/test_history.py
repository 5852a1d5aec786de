"""History on campaigns, customers, tools and phone numbers, through the admin and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from calls.models import OutboundSwitch
from tests.api.conftest import client_with  # noqa: F401
from tests.factories import (
    AssistantFactory,
    CampaignFactory,
    CampaignRecipientFactory,
    PhoneNumberFactory,
    ToolFactory,
)
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db


def test_a_tool_switched_off_through_the_api_leaves_a_trace(client_with, superuser_client):  # noqa: F811
    tool = ToolFactory(enabled=True)
    response = client_with(Scope.ASSISTANTS_WRITE).post(f"/api/v1/tools/{tool.pk}/disable/")
    assert response.status_code == 200
    last = tool.history.order_by("-history_id").first()
    assert last.enabled is False and last.history_change_reason.startswith("API key ")
    page = superuser_client.get(reverse("admin:tools_tool_history", args=[tool.pk]))
    assert page.status_code == 200 and "API key" in page.content.decode()


def test_a_campaign_paused_in_the_admin_is_recorded_with_the_person(manager, manager_client):
    OutboundSwitch.objects.update_or_create(pk=1, defaults={"paused": True, "changed_by": "test"})
    assistant = AssistantFactory(vapi_id="asst-history")
    campaign = CampaignFactory(assistant=assistant, phone_number=PhoneNumberFactory(assistant=assistant))
    CampaignRecipientFactory(campaign=campaign)
    url = reverse("admin:calls_campaign_change", args=[campaign.pk])
    manager_client.post(reverse("admin:calls_campaign_control", args=[campaign.pk, "start"]), {"next": url})
    manager_client.post(reverse("admin:calls_campaign_control", args=[campaign.pk, "pause"]), {"next": url})
    states = [(h.state, h.history_user_id) for h in campaign.history.order_by("history_id")]
    assert ("running", manager.pk) in states and states[-1] == ("paused", manager.pk)
    page = manager_client.get(reverse("admin:calls_campaign_history", args=[campaign.pk]))
    assert page.status_code == 200


def test_phone_number_changes_are_recorded(superuser_client):
    number = PhoneNumberFactory(name="Front desk")
    number.name = "Reception"
    number.save()
    assert [h.name for h in number.history.order_by("history_id")] == ["Front desk", "Reception"]
