"""The assistants admin: form errors for invalid configs (nothing pushed), push button and
actions, drift display, history compare/restore, phone number import and binding."""

from __future__ import annotations

import json
import re

import pytest
import responses
from django.urls import reverse

from assistants.models import Assistant, DriftState, NumberMode, PhoneNumber, PushState
from tests.assistants.conftest import ASSISTANT_ID, VAPI, calls_to
from tests.conftest import load_fixture
from tests.factories import AssistantFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

ADD_URL = "admin:assistants_assistant_add"


def form_data(**overrides) -> dict:
    data = {
        "name": "Front desk",
        "first_message": "Hello!",
        "first_message_mode": "assistant-speaks-first",
        "system_prompt": "You are helpful.",
        "model_provider": "openai",
        "model_name": "gpt-4o",
        "temperature": "0.4",
        "max_tokens": "250",
        "voice_provider": "11labs",
        "voice_id": "sarah",
        "transcriber_provider": "deepgram",
        "transcriber_model": "nova-2",
        "transcriber_language": "en",
        "end_call_phrases": "goodbye\nhave a nice day",
        "end_call_message": "",
        "voicemail_message": "",
        "max_duration_seconds": "600",
        "summary_prompt": "",
        "structured_data_schema": json.dumps({"type": "object", "properties": {"ok": {"type": "boolean"}}}),
        "success_rubric": "PassFail",
        "recording_enabled": "on",
        "recording_format": "mp3",
        "server_messages": ["status-update", "end-of-call-report", "tool-calls"],
        "metadata": "{}",
        # The transfer destinations inline (none).
        "transfer_destinations-TOTAL_FORMS": "0",
        "transfer_destinations-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def errors_of(response) -> dict:
    return response.context["adminform"].form.errors


def test_valid_add_form_creates_the_assistant(admin_client, vapi):
    response = admin_client.post(reverse(ADD_URL), form_data())
    assert response.status_code == 302, errors_of(response)
    assistant = Assistant.objects.get(name="Front desk")
    assert assistant.end_call_phrases == ["goodbye", "have a nice day"]
    assert assistant.server_messages == ["status-update", "end-of-call-report", "tool-calls"]
    assert assistant.push_state == PushState.NEVER_PUSHED
    assert len(vapi.calls) == 0  # push-on-save is off by default


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"temperature": "2.5"}, "temperature", "between 0 and 2"),
        ({"temperature": "-0.1"}, "temperature", "between 0 and 2"),
        ({"structured_data_schema": json.dumps({"type": "objekt"})}, "structured_data_schema", "JSON Schema"),
        (
            {"structured_data_schema": json.dumps({"type": "object", "required": "name"})},
            "structured_data_schema",
            "JSON Schema",
        ),
        ({"structured_data_schema": "{not json"}, "structured_data_schema", "JSON"),
        ({"name": "N" * 41}, "name", "40"),
        ({"model_provider": "acme-llm"}, "model_provider", "valid choice"),
        ({"server_messages": ["status-update", "made-up"]}, "server_messages", "valid choice"),
        ({"max_tokens": "0"}, "max_tokens", "between 1 and 10000"),
        ({"metadata": "[1, 2]"}, "metadata", "JSON object"),
    ],
)
def test_invalid_config_is_a_field_error_and_nothing_is_pushed(
    admin_client, vapi, settings, overrides, field, fragment
):
    settings.ASSISTANT_PUSH_ON_SAVE = True
    response = admin_client.post(reverse(ADD_URL), form_data(**overrides))

    assert response.status_code == 200
    errors = errors_of(response)
    assert field in errors, errors
    assert fragment in " ".join(errors[field])
    assert not Assistant.objects.filter(name__in=["Front desk", "N" * 41]).exists()
    assert len(vapi.calls) == 0


def test_invalid_change_is_refused_and_the_live_config_untouched(admin_client, vapi, settings, northwind):
    settings.ASSISTANT_PUSH_ON_SAVE = True
    url = reverse("admin:assistants_assistant_change", args=[northwind.pk])
    response = admin_client.post(url, form_data(name=northwind.name, temperature="7"))
    assert response.status_code == 200
    assert "temperature" in errors_of(response)
    northwind.refresh_from_db()
    assert northwind.temperature == 0.3
    assert len(vapi.calls) == 0


def test_valid_change_with_push_on_save_pushes(
    admin_client, vapi, settings, django_capture_on_commit_callbacks
):
    settings.ASSISTANT_PUSH_ON_SAVE = True
    vapi.add(responses.POST, f"{VAPI}/assistant", json={"id": ASSISTANT_ID}, status=201)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse(ADD_URL), form_data())
    assert response.status_code == 302
    assistant = Assistant.objects.get(name="Front desk")
    assert (assistant.push_state, assistant.vapi_id) == (PushState.IN_SYNC, ASSISTANT_ID)
    assert len(calls_to(vapi, "POST", "/assistant")) == 1


def test_push_button_pushes_and_the_page_shows_the_state(
    admin_client, vapi, northwind, django_capture_on_commit_callbacks
):
    vapi.add(responses.POST, f"{VAPI}/assistant", json={"id": ASSISTANT_ID}, status=201)
    change_url = reverse("admin:assistants_assistant_change", args=[northwind.pk])
    page = admin_client.get(change_url).content.decode()
    push_url = reverse("admin:assistants_assistant_push", args=[northwind.pk])
    assert push_url in page and "Never pushed" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(push_url)
    assert response.status_code == 302
    northwind.refresh_from_db()
    assert northwind.push_state == PushState.IN_SYNC
    page = admin_client.get(change_url).content.decode()
    assert "In sync" in page and ASSISTANT_ID in page
    # No secret is rendered anywhere: not the API key, not the webhook secrets.
    for secret in ("test-vapi-private-key-0f3b", "whsec-current-7a1d", "whsec-previous-55c2"):
        assert secret not in page
    assert admin_client.get(push_url).status_code == 405


def test_push_action_refuses_invalid_and_queues_valid(admin_client, vapi, django_capture_on_commit_callbacks):
    good = AssistantFactory(name="Good one")
    bad = AssistantFactory(name="Bad one")
    Assistant.objects.filter(pk=bad.pk).update(voice_provider="nope")
    vapi.add(responses.POST, f"{VAPI}/assistant", json={"id": ASSISTANT_ID}, status=201)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:assistants_assistant_changelist"),
            {"action": "push_selected", "_selected_action": [good.pk, bad.pk]},
            follow=True,
        )
    text = response.content.decode()
    assert "Push queued for 1 assistant(s)." in text
    assert "Not pushed: Bad one: voice_provider" in text
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.push_state == PushState.NEVER_PUSHED
    assert good.push_state == PushState.IN_SYNC
    assert len(calls_to(vapi, "POST", "/assistant")) == 1
    listing = admin_client.get(reverse("admin:assistants_assistant_changelist")).content.decode()
    assert "In sync" in listing and "Never pushed" in listing


def test_drift_button_shows_the_differing_fields(admin_client, vapi, northwind):
    vapi.add(responses.POST, f"{VAPI}/assistant", json={"id": ASSISTANT_ID}, status=201)
    from assistants.services import assistant_push

    assistant_push(assistant=northwind)
    northwind.refresh_from_db()
    remote = {**northwind.pushed_payload, "id": ASSISTANT_ID, "firstMessage": "Changed in the dashboard"}
    vapi.add(responses.GET, f"{VAPI}/assistant/{ASSISTANT_ID}", json=remote)

    response = admin_client.post(
        reverse("admin:assistants_assistant_drift", args=[northwind.pk]), follow=True
    )

    assert "drifted in firstMessage" in response.content.decode()
    northwind.refresh_from_db()
    assert (northwind.drift_state, northwind.drift_fields) == (DriftState.DRIFTED, ["firstMessage"])
    page = admin_client.get(
        reverse("admin:assistants_assistant_change", args=[northwind.pk])
    ).content.decode()
    assert "<code>firstMessage</code>" in page


def test_history_shows_who_changed_what_and_compare_and_restore(admin_client, admin_user, vapi, northwind):
    url = reverse("admin:assistants_assistant_change", args=[northwind.pk])
    data = form_data(name=northwind.name, temperature="0.9", system_prompt="Be brief.")
    assert admin_client.post(url, data).status_code == 302
    versions = list(northwind.history.order_by("history_id"))
    first, second = versions[0].history_id, versions[-1].history_id
    assert versions[-1].history_user == admin_user

    history = admin_client.get(
        reverse("admin:assistants_assistant_history", args=[northwind.pk])
    ).content.decode()
    assert admin_user.username in history
    # The history list shows who changed what: the delta of each version.
    assert re.search(r"Temperature:</strong>\s*0\.3\s*&nbsp;&rarr;&nbsp;&nbsp;0\.9", history)

    compare = admin_client.get(
        reverse("admin:assistants_assistant_compare", args=[northwind.pk]), {"from": first, "to": second}
    )
    changed = {c.field: (c.old, c.new) for c in compare.context["changes"]}
    assert changed["temperature"] == (0.3, 0.9)
    assert changed["system_prompt"][1] == "Be brief."
    assert "<code>temperature</code>" in compare.content.decode()

    restore = reverse("admin:assistants_assistant_restore", args=[northwind.pk, first])
    assert admin_client.post(restore).status_code == 302
    northwind.refresh_from_db()
    assert northwind.temperature == 0.3
    assert northwind.system_prompt.startswith("You are Riley")
    latest = northwind.history.latest()
    assert latest.history_change_reason == f"Reverted to version {first}"
    assert latest.history_user == admin_user
    assert len(vapi.calls) == 0


def test_compare_with_unknown_version_is_an_error_not_a_crash(admin_client, northwind):
    response = admin_client.get(
        reverse("admin:assistants_assistant_compare", args=[northwind.pk]), {"from": "999999", "to": "x"}
    )
    assert response.status_code == 200
    assert response.context["error"]


def test_phone_number_import_button(admin_client, vapi):
    vapi.add(responses.GET, f"{VAPI}/phone-number", json=load_fixture("rest/phone-numbers-list.json"))
    page = admin_client.get(reverse("admin:assistants_phonenumber_changelist")).content.decode()
    import_url = reverse("admin:assistants_phonenumber_import")
    assert import_url in page
    response = admin_client.post(import_url, follow=True)
    assert "Imported or updated 2 phone number(s)" in response.content.decode()
    assert PhoneNumber.objects.count() == 2


def test_phone_number_set_mode_action_with_intermediate_page(admin_client, vapi):
    assistant = AssistantFactory(vapi_id=ASSISTANT_ID)
    number = PhoneNumberFactory(assistant=None, mode=NumberMode.ROUTED)
    vapi.add(
        responses.PATCH,
        f"{VAPI}/phone-number/{number.vapi_id}",
        json={"id": number.vapi_id, "assistantId": ASSISTANT_ID},
    )
    changelist = reverse("admin:assistants_phonenumber_changelist")
    action = {"action": "set_mode_selected", "_selected_action": [number.pk]}

    page = admin_client.post(changelist, action)
    assert page.status_code == 200 and "Set the mode of phone numbers" in page.content.decode()

    # Fixed without an assistant is a form error, and nothing reaches Vapi.
    page = admin_client.post(changelist, {**action, "apply": "1", "mode": "fixed"})
    assert "A fixed number needs the assistant" in page.content.decode()
    assert not calls_to(vapi, "PATCH", f"/phone-number/{number.vapi_id}")

    response = admin_client.post(
        changelist, {**action, "apply": "1", "mode": "fixed", "assistant": assistant.pk}, follow=True
    )
    assert "1 number(s) now fixed" in response.content.decode()
    number.refresh_from_db()
    assert (number.mode, number.assistant, number.vapi_mode) == (NumberMode.FIXED, assistant, "fixed")

    vapi.replace(
        responses.PATCH,
        f"{VAPI}/phone-number/{number.vapi_id}",
        json={"id": number.vapi_id, "server": {"url": "https://voiceops.example.com/webhooks/vapi/"}},
    )
    admin_client.post(changelist, {**action, "apply": "1", "mode": "routed"}, follow=True)
    number.refresh_from_db()
    assert (number.mode, number.assistant, number.vapi_mode) == (NumberMode.ROUTED, None, "routed")
    page = admin_client.get(reverse("admin:assistants_phonenumber_change", args=[number.pk])).content.decode()
    assert "No assistant, server URL set" in page and "Differs" not in page


def test_phone_number_check_action_says_when_vapi_differs(admin_client, vapi):
    number = PhoneNumberFactory(mode=NumberMode.ROUTED, assistant=None)
    vapi.add(
        responses.GET,
        f"{VAPI}/phone-number/{number.vapi_id}",
        json={"id": number.vapi_id, "assistantId": ASSISTANT_ID},
    )
    changelist = reverse("admin:assistants_phonenumber_changelist")
    response = admin_client.post(
        changelist, {"action": "check_selected", "_selected_action": [number.pk]}, follow=True
    )
    assert "Vapi has: Bound to an assistant; voiceops wants: Routed" in response.content.decode()
    assert "Differs." in admin_client.get(changelist).content.decode()
