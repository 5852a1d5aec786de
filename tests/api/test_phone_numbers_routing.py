"""/api/v1/phone-numbers/ modes and drift, /api/v1/routing-rules/ and /api/v1/closures/."""

from __future__ import annotations

import pytest
import responses

from assistants.models import NumberMode, RoutingRule
from tests.api.conftest import assert_error
from tests.factories import AssistantFactory, PhoneNumberFactory
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db
VAPI = "http://vapi.test"
CREDENTIAL_ID = "4d9e5c14-8a6b-4e3f-9d0c-2f4a7b9c5e83"


def test_set_routed_mode_patches_vapi_and_shows_vapis_state(client_with):
    client = client_with(Scope.ASSISTANTS_WRITE)
    number = PhoneNumberFactory()
    default = AssistantFactory(vapi_id="a3f1c9e2-4b6d-4e8a-9c1f-7d2e5b8a0c34")
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, f"{VAPI}/credential", json={"id": CREDENTIAL_ID}, status=201)
        rsps.add(
            responses.PATCH,
            f"{VAPI}/phone-number/{number.vapi_id}",
            json={"id": number.vapi_id, "server": {"url": "https://voiceops.example.com/webhooks/vapi/"}},
        )
        response = client.post(
            f"/api/v1/phone-numbers/{number.pk}/mode/",
            {"mode": "routed", "assistant": default.pk},
            format="json",
        )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["mode"], body["vapi_mode"], body["assistant"], body["vapi_differs"]) == (
        "routed",
        "routed",
        default.pk,
        "",
    )


def test_mode_errors_are_clear(client_with):
    client = client_with(Scope.ASSISTANTS_WRITE)
    number = PhoneNumberFactory()
    url = f"/api/v1/phone-numbers/{number.pk}/mode/"
    assert "mode" in assert_error(client.post(url, {"mode": "squad"}, format="json"), 400)["fields"]
    assert "assistant" in assert_error(client.post(url, {"mode": "fixed"}, format="json"), 400)["fields"]
    unpushed = AssistantFactory(vapi_id=None)
    assert_error(
        client.post(url, {"mode": "fixed", "assistant": unpushed.pk}, format="json"), 409, "invalid_state"
    )


def test_check_records_what_vapi_has(client_with):
    client = client_with(Scope.ASSISTANTS_WRITE)
    number = PhoneNumberFactory(mode=NumberMode.ROUTED, assistant=None)
    with responses.RequestsMock() as rsps:
        rsps.add(
            responses.GET,
            f"{VAPI}/phone-number/{number.vapi_id}",
            json={"id": number.vapi_id, "assistantId": "a3f1c9e2-4b6d-4e8a-9c1f-7d2e5b8a0c34"},
        )
        body = client.post(f"/api/v1/phone-numbers/{number.pk}/check/").json()
    assert body["vapi_mode"] == "fixed" and body["mode"] == "routed"
    assert body["vapi_differs"].startswith("Vapi has: Bound to an assistant")


def test_patch_opening_hours_validates(client_with):
    client = client_with(Scope.ASSISTANTS_WRITE)
    number = PhoneNumberFactory()
    url = f"/api/v1/phone-numbers/{number.pk}/"
    error = assert_error(
        client.patch(url, {"opening_hours": {"mon": [["18:00", "09:00"]], "funday": []}}, format="json"), 400
    )
    assert "closes before it opens" in str(error["fields"]["opening_hours"])
    assert "funday" in str(error["fields"]["opening_hours"])
    assert (
        "time_zone"
        in assert_error(client.patch(url, {"time_zone": "Mars/Base"}, format="json"), 400)["fields"]
    )
    # mode is read-only here: it changes through mode/ only (Vapi first).
    response = client.patch(
        url,
        {"time_zone": "Europe/Berlin", "opening_hours": {"sat": [["10:00", "14:00"]]}, "mode": "routed"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    number.refresh_from_db()
    assert (number.time_zone, number.opening_hours, number.mode) == (
        "Europe/Berlin",
        {"sat": [["10:00", "14:00"]]},
        NumberMode.FIXED,
    )


def test_routing_rules_crud_and_validation(client_with):
    client = client_with(Scope.ASSISTANTS_WRITE, Scope.READ)
    number = PhoneNumberFactory(mode=NumberMode.ROUTED)
    assistant = AssistantFactory()
    error = assert_error(
        client.post(
            "/api/v1/routing-rules/",
            {"phone_number": number.pk, "name": "x", "action": "assistant", "caller_numbers": ["0800", 12]},
            format="json",
        ),
        400,
    )
    assert "caller_numbers" in error["fields"]
    error = assert_error(
        client.post("/api/v1/routing-rules/", {"phone_number": number.pk, "name": "x"}, format="json"), 400
    )
    assert "assistant" in error["fields"]
    created = client.post(
        "/api/v1/routing-rules/",
        {
            "phone_number": number.pk,
            "name": "Blocked",
            "position": 1,
            "caller_numbers": ["+1415555"],
            "action": "refuse",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    rule = created.json()["id"]
    patched = client.patch(
        f"/api/v1/routing-rules/{rule}/", {"action": "assistant", "assistant": assistant.pk}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["assistant"] == assistant.pk
    assert_error(client.patch(f"/api/v1/routing-rules/{rule}/", {"assistant": None}, format="json"), 400)
    listed = client.get(f"/api/v1/routing-rules/?phone_number={number.pk}").json()
    assert [r["name"] for r in listed["results"]] == ["Blocked"]
    assert client.delete(f"/api/v1/routing-rules/{rule}/").status_code == 204
    assert not RoutingRule.objects.exists()


def test_closures_validate_their_range(client_with):
    client = client_with(Scope.ASSISTANTS_WRITE)
    number = PhoneNumberFactory()
    error = assert_error(
        client.post(
            "/api/v1/closures/",
            {"phone_number": number.pk, "starts_on": "2026-12-25", "ends_on": "2026-12-24"},
            format="json",
        ),
        400,
    )
    assert "ends_on" in error["fields"]
    ok = client.post(
        "/api/v1/closures/",
        {"phone_number": number.pk, "starts_on": "2026-12-24", "ends_on": "2026-12-26", "name": "Holidays"},
        format="json",
    )
    assert ok.status_code == 201, ok.json()
