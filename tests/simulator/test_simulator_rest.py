"""The simulator's REST API: Vapi's paths, auth and NestJS error bodies, through voiceops's own client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import load_fixture
from voiceops.simulator.runner import Simulator, running_simulator
from voiceops.simulator.store import phone_number_id_for
from voiceops.vapi.client import VapiAuthError, VapiBadRequest, VapiClient, VapiNotFound

MISSING = "7d4c0b5e-1111-4a2b-9c3d-000000000000"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with running_simulator(play_calls=False) as simulator:
        yield simulator


@pytest.fixture
def client(sim: Simulator) -> VapiClient:
    return VapiClient(base_url=sim.base_url, api_key=settings.VAPI_API_KEY, retries=0)


def raw(
    sim: Simulator,
    method: str,
    path: str,
    body: bytes | None = None,
    auth: str | None = "Bearer test-vapi-private-key-0f3b",
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = auth
    request = urllib.request.Request(f"{sim.base_url}{path}", data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def assistant(client: VapiClient) -> dict[str, Any]:
    return client.assistant_create(load_fixture("rest/assistant-create-request.json"))


def test_assistant_crud_matches_the_fixture_shapes(client: VapiClient) -> None:
    created = assistant(client)
    expected = load_fixture("rest/assistant.json")
    assert set(expected) == set(created)
    assert {k: created[k] for k in expected if k not in ("id", "orgId", "createdAt", "updatedAt")} == {
        k: v for k, v in expected.items() if k not in ("id", "orgId", "createdAt", "updatedAt")
    }
    updated = client.assistant_update(created["id"], load_fixture("rest/assistant-update-request.json"))
    assert updated["firstMessage"].startswith("Hello {{customerName}}")
    assert updated["serverMessages"] == [
        "status-update",
        "tool-calls",
        "end-of-call-report",
        "transfer-destination-request",
    ]
    assert updated["model"] == created["model"]
    assert [a["id"] for a in client.assistant_list()] == [created["id"]]
    assert client.assistant_delete(created["id"])["id"] == created["id"]
    with pytest.raises(VapiNotFound):
        client.assistant_get(created["id"])


def test_unknown_call_property_and_bad_number_answer_like_vapi(client: VapiClient, sim: Simulator) -> None:
    created = assistant(client)
    body = load_fixture("rest/call-create-request.json")
    body.update({"assistantId": created["id"], "phoneNumberId": phone_number_id_for("+12125550100")})
    body["customer"]["number"] = "0415 555 0123"
    body["metadata"] = {"campaign": 7}
    status, answer = raw(sim, "POST", "/call", json.dumps(body).encode())
    assert status == 400
    assert answer == load_fixture("rest/error-400.json")
    with pytest.raises(VapiBadRequest) as error:
        client.call_create(body)
    assert "property metadata should not exist" in error.value.message


def test_single_call_created_like_the_fixture(client: VapiClient) -> None:
    created = assistant(client)
    body = load_fixture("rest/call-create-request.json")
    body.update({"assistantId": created["id"], "phoneNumberId": phone_number_id_for("+12125550100")})
    call = client.call_create(body)
    fixture = load_fixture("rest/call-created.json")
    assert set(fixture) <= set(call)
    assert call["status"] == "queued" and call["type"] == "outboundPhoneCall"
    assert call["customer"] == body["customer"] and call["assistantOverrides"] == body["assistantOverrides"]
    assert call["subscriptionLimits"]["concurrencyBlocked"] is False
    assert client.call_get(call["id"])["id"] == call["id"]
    assert "subscriptionLimits" not in client.call_get(call["id"])
    renamed = client.call_update(call["id"], {"name": "Renamed"})
    assert renamed["name"] == "Renamed"
    with pytest.raises(VapiBadRequest, match="property status should not exist"):
        client.call_update(call["id"], {"status": "ended"})
    assert client.call_delete(call["id"])["id"] == call["id"]
    with pytest.raises(VapiNotFound):
        client.call_get(call["id"])


def test_batch_call_reports_bad_customers_in_errors(client: VapiClient) -> None:
    created = assistant(client)
    body = load_fixture("rest/call-create-batch-request.json")
    body.update({"assistantId": created["id"], "phoneNumberId": phone_number_id_for("+12125550100")})
    body["customers"].append({"number": "12345"})
    answer = client.call_create(body)
    assert set(answer) == set(load_fixture("rest/call-batch-created.json"))
    assert [c["customer"]["number"] for c in answer["results"]] == ["+15035550164", "+15035550178"]
    assert {c["status"] for c in answer["results"]} == {"scheduled"}
    assert answer["results"][0]["schedulePlan"] == body["schedulePlan"]
    assert answer["errors"] == [
        {
            "customer": {"number": "12345"},
            "error": "customers.2.number must be a valid phone number in the E.164 format.",
        }
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"customer": {"number": "+15555550123"}}, "Couldn't Get Assistant"),
        ({"assistantId": MISSING, "customer": {"number": "+15555550123"}}, "`assistantId` Does Not Exist"),
        (
            {"assistant": {"name": "T"}, "customer": {"number": "+15555550123"}},
            "`phoneNumberId` Or `phoneNumber`",
        ),
        (
            {"assistant": {"name": "T"}, "phoneNumberId": MISSING, "customer": {"number": "+15555550123"}},
            "`phoneNumberId` Does Not Exist",
        ),
        ({"assistant": {"name": "T"}, "phoneNumberId": "PHONE"}, "Need Either `customerId`"),
        (
            {
                "assistant": {"name": "T"},
                "phoneNumberId": "PHONE",
                "customer": {"number": "+15555550123"},
                "schedulePlan": {"latestAt": "tomorrow"},
            },
            "schedulePlan.earliestAt must be a valid ISO 8601",
        ),
        (
            {
                "assistant": {"name": "T", "colour": "red"},
                "phoneNumberId": "PHONE",
                "customer": {"number": "+15555550123"},
            },
            "assistant.property colour should not exist",
        ),
        ({"assistant": {"name": "T"}, "phoneNumberId": "PHONE", "customers": []}, "customers must contain"),
    ],
)
def test_call_create_refusals(client: VapiClient, body: dict[str, Any], message: str) -> None:
    if body.get("phoneNumberId") == "PHONE":
        body["phoneNumberId"] = phone_number_id_for("+12125550100")
    with pytest.raises(VapiBadRequest) as error:
        client.call_create(body)
    assert error.value.status == 400
    assert message in error.value.message


def test_auth_and_routing_errors(sim: Simulator) -> None:
    status, body = raw(sim, "GET", "/assistant", auth=None)
    assert (status, body["error"], body["statusCode"]) == (401, "Unauthorized", 401)
    status, body = raw(sim, "GET", "/assistant", auth="Bearer ")
    assert status == 401
    status, body = raw(sim, "GET", "/nope")
    assert (status, body["message"]) == (404, "Cannot GET /nope")
    status, body = raw(sim, "GET", "/assistant/not-a-uuid")
    assert (status, body["message"]) == (400, "Validation failed (uuid is expected)")
    status, body = raw(sim, "GET", f"/call/{MISSING}")
    assert (status, body["message"]) == (404, "Call not found")
    status, body = raw(sim, "POST", "/assistant", b"{not json")
    assert status == 400 and body["error"] == "Bad Request"
    with pytest.raises(VapiAuthError):
        with running_simulator(play_calls=False, api_key="right") as strict:
            VapiClient(base_url=strict.base_url, api_key="wrong", retries=0).assistant_list()


def test_a_wrong_key_is_refused_by_default_like_vapi(sim: Simulator) -> None:
    # No key given: the simulator requires the configured VAPI_API_KEY, as Vapi requires yours.
    assert sim.config.api_key == settings.VAPI_API_KEY
    status, body = raw(sim, "GET", "/assistant", auth="Bearer some-other-key")
    assert (status, body["statusCode"]) == (401, 401)
    assert raw(sim, "GET", "/assistant", auth="Bearer ünïcode")[0] == 401
    assert raw(sim, "GET", "/assistant")[0] == 200


def test_any_key_only_when_asked_and_no_key_configured_is_an_error(settings: Any) -> None:
    with running_simulator(play_calls=False, allow_any_key=True) as lax:
        assert raw(lax, "GET", "/assistant", auth="Bearer whatever")[0] == 200
        assert raw(lax, "GET", "/assistant", auth="Bearer ")[0] == 401
    settings.VAPI_API_KEY = ""
    with pytest.raises(ValueError, match="requires an API key"):
        Simulator()


def test_list_filters_and_limit(client: VapiClient, sim: Simulator) -> None:
    first = assistant(client)
    second = client.assistant_create({"name": "Second"})
    assert [a["id"] for a in client.assistant_list(limit=1)] == [second["id"]]
    assert {a["id"] for a in client.assistant_list(createdAtGe=first["createdAt"])} == {
        first["id"],
        second["id"],
    }
    assert client.assistant_list(createdAtGt="2999-01-01T00:00:00Z") == []
    status, body = raw(sim, "GET", "/assistant?limit=lots")
    assert status == 400 and "limit" in body["message"][0]


def test_call_list_is_newest_first_filtered_limited_and_refuses_unknown_keys(
    client: VapiClient, sim: Simulator
) -> None:
    stamps = ["2026-11-25T16:00:00.000Z", "2026-11-25T16:10:00.000Z", "2026-11-25T16:20:00.000Z"]
    for number, stamp in enumerate(stamps):
        call = sim.store.add("calls", {"type": "inboundPhoneCall", "status": "ended", "name": f"c{number}"})
        sim.store.calls[call["id"]]["createdAt"] = stamp
    assert [c["name"] for c in client.call_list()] == ["c2", "c1", "c0"]
    assert [c["name"] for c in client.call_list(limit=2)] == ["c2", "c1"]
    window = {"createdAtGe": stamps[0], "createdAtLt": stamps[2]}
    assert [c["name"] for c in client.call_list(**window)] == ["c1", "c0"]
    assert [c["name"] for c in client.call_list(createdAtGt=stamps[0], createdAtLe=stamps[1])] == ["c1"]
    status, body = raw(sim, "GET", "/call?sortOrder=ASC")
    assert status == 400 and body["message"] == ["property sortOrder should not exist"]
    assert raw(sim, "GET", "/call?limit=1001")[0] == 400


def test_credentials_tools_and_phone_numbers(client: VapiClient) -> None:
    credential = client.credential_create(
        {"provider": "webhook", "name": "voiceops", "authenticationPlan": {"type": "hmac", "secretKey": "k1"}}
    )
    assert credential["authenticationPlan"]["type"] == "hmac"
    rotated = client.credential_update(
        credential["id"], {"authenticationPlan": {"type": "bearer", "token": "t"}}
    )
    assert rotated["authenticationPlan"] == {"type": "bearer", "token": "t"}
    with pytest.raises(VapiBadRequest, match="authenticationPlan.type must be one of"):
        client.credential_create({"provider": "webhook", "authenticationPlan": {"type": "magic"}})
    with pytest.raises(VapiBadRequest, match="authenticationPlan should not be null"):
        client.credential_create({"provider": "webhook"})

    tool = client.tool_create(load_fixture("rest/tool-create-request.json"))
    assert set(tool) == set(load_fixture("rest/tool.json"))
    changed = client.tool_update(tool["id"], {"async": True})
    assert changed["async"] is True and changed["function"] == tool["function"]
    with pytest.raises(VapiBadRequest, match="function.name"):
        client.tool_create({"type": "function", "function": {"name": "no spaces allowed"}})

    created = assistant(client)
    phone = client.phone_number_get(phone_number_id_for("+12125550100"))
    bound = client.phone_number_update(
        phone["id"], {"assistantId": created["id"], "server": {"url": "https://voiceops.example.com/w/"}}
    )
    assert (
        bound["assistantId"] == created["id"] and bound["server"]["url"] == "https://voiceops.example.com/w/"
    )
    unbound = client.phone_number_update(phone["id"], {"assistantId": None})
    assert unbound["assistantId"] is None
    with pytest.raises(VapiBadRequest, match="`assistantId` Does Not Exist"):
        client.phone_number_update(phone["id"], {"assistantId": MISSING})
    with pytest.raises(VapiBadRequest, match="property colour should not exist"):
        client.phone_number_update(phone["id"], {"colour": "red"})
