"""/api/v1/assistants/ and /api/v1/phone-numbers/ and /api/v1/tools/."""

from __future__ import annotations

import pytest

from assistants.models import Assistant
from tests.api.conftest import assert_error
from tests.factories import AssistantFactory, CampaignFactory, PhoneNumberFactory, ToolFactory
from tools.models import Tool
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db
URL = "/api/v1/assistants/"


@pytest.fixture
def writer(client_with):
    return client_with(Scope.READ, Scope.ASSISTANTS_WRITE)


def test_create_with_tools_and_read_back(writer):
    tool = ToolFactory(name="book_appointment")
    response = writer.post(
        URL,
        {"name": "Riley", "system_prompt": "Be kind.", "temperature": 0.3, "tools": [tool.pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tools"] == [tool.pk] and body["push_state"] == "never-pushed"
    assert writer.get(f"{URL}{body['id']}/").json()["name"] == "Riley"


def test_validation_messages_per_field(writer):
    AssistantFactory(name="Taken")
    response = writer.post(
        URL,
        {
            "name": "Taken",
            "temperature": 3,
            "max_duration_seconds": 5,
            "server_messages": "x",
            "tools": [999],
        },
        format="json",
    )
    error = assert_error(response, 400, "validation_error")
    assert set(error["fields"]) == {"name", "temperature", "max_duration_seconds", "server_messages", "tools"}


def test_name_longer_than_vapi_allows_is_refused(writer):
    error = assert_error(writer.post(URL, {"name": "x" * 41}, format="json"), 400)
    assert "name" in error["fields"]


def test_sync_fields_are_read_only(writer):
    assistant = AssistantFactory()
    writer.patch(f"{URL}{assistant.pk}/", {"vapi_id": "forged", "push_state": "in-sync"}, format="json")
    assistant.refresh_from_db()
    assert assistant.vapi_id is None and assistant.push_state == "never-pushed"


def test_patch_records_history(writer):
    assistant = AssistantFactory()
    writer.patch(f"{URL}{assistant.pk}/", {"system_prompt": "New prompt"}, format="json")
    assert assistant.history.count() == 2
    latest = assistant.history.first()
    assert latest.system_prompt == "New prompt"
    assert latest.history_change_reason.startswith(f"API key {writer.api_key.name}")


def test_delete_of_an_assistant_a_campaign_uses_is_409(writer):
    campaign = CampaignFactory()
    assert_error(writer.delete(f"{URL}{campaign.assistant_id}/"), 409, "protected")
    assert Assistant.objects.filter(pk=campaign.assistant_id).exists()


def test_list_filters_by_name(writer):
    AssistantFactory(name="Front desk")
    AssistantFactory(name="Billing")
    names = [a["name"] for a in writer.get(URL, {"name": "desk"}).json()["results"]]
    assert names == ["Front desk"]


def test_phone_numbers_list_and_filter(reader):
    number = PhoneNumberFactory()
    PhoneNumberFactory()
    body = reader.get("/api/v1/phone-numbers/", {"assistant": number.assistant_id}).json()
    assert [n["id"] for n in body["results"]] == [number.pk]
    assert body["results"][0]["number"] == str(number.number)


def test_tools_enable_disable(writer):
    tool = ToolFactory(name="transfer_call", enabled=True)
    response = writer.post(f"/api/v1/tools/{tool.pk}/disable/")
    assert response.status_code == 200 and response.json()["enabled"] is False
    assert Tool.objects.get(pk=tool.pk).enabled is False
    assert writer.post(f"/api/v1/tools/{tool.pk}/enable/").json()["enabled"] is True
    assert [t["name"] for t in writer.get("/api/v1/tools/", {"enabled": "true"}).json()["results"]] == [
        "transfer_call"
    ]
