"""Every message the simulator posts is authenticated exactly as CONTRACT §2 describes.

A capture server receives the messages; the tests verify the headers independently
(their own HMAC over the raw bytes received), not by calling the simulator's signer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from tests.simulator.conftest import CaptureServer
from voiceops.simulator.delivery import hmac_headers
from voiceops.simulator.resources import call_create, credential_create
from voiceops.simulator.runner import Simulator, running_simulator
from voiceops.simulator.store import phone_number_id_for

PHONE = phone_number_id_for("+12125550100")


def place_call(sim: Simulator, server: dict[str, Any]) -> str:
    assistant = sim.store.add("assistants", {"name": "Signer", "server": server})
    _, call = call_create(
        sim, {"assistantId": assistant["id"], "phoneNumberId": PHONE, "customer": {"number": "+15555550123"}}
    )
    assert sim.wait_for_calls(timeout=20)
    return call["id"]


def busy_sim(**overrides: Any) -> Any:
    return running_simulator(time_factor=500, outcome="busy", seed=1, **overrides)


def test_legacy_server_secret_is_sent_as_x_vapi_secret(capture: CaptureServer) -> None:
    with busy_sim(secret="default-should-not-be-used") as sim:
        place_call(sim, {"url": capture.url, "secret": "s3cr3t-legacy"})
    assert capture.types() == ["status-update", "status-update", "status-update", "end-of-call-report"]
    assert {c.headers.get("x-vapi-secret") for c in capture.received} == {"s3cr3t-legacy"}
    assert not any("x-signature" in c.headers or "authorization" in c.headers for c in capture.received)


def test_default_secret_when_the_server_names_no_auth(capture: CaptureServer) -> None:
    with busy_sim(secret="org-secret") as sim:
        place_call(sim, {"url": capture.url})
    assert capture.received
    assert {c.headers.get("x-vapi-secret") for c in capture.received} == {"org-secret"}


def test_bearer_credential_with_and_without_prefix(capture: CaptureServer) -> None:
    with busy_sim(secret="unused") as sim:
        _, plain = credential_create(
            sim, {"provider": "webhook", "authenticationPlan": {"type": "bearer", "token": "tok-1"}}
        )
        place_call(sim, {"url": capture.url, "credentialId": plain["id"]})
        first = len(capture.received)
        _, custom = credential_create(
            sim,
            {
                "provider": "webhook",
                "authenticationPlan": {
                    "type": "bearer",
                    "token": "tok-2",
                    "headerName": "X-Vapi-Secret",
                    "bearerPrefixEnabled": False,
                },
            },
        )
        place_call(sim, {"url": capture.url, "credentialId": custom["id"], "headers": {"X-Team": "ops"}})
    assert {c.headers.get("authorization") for c in capture.received[:first]} == {"Bearer tok-1"}
    later = capture.received[first:]
    assert later and {c.headers.get("x-vapi-secret") for c in later} == {"tok-2"}
    assert {c.headers.get("x-team") for c in later} == {"ops"}
    assert all("authorization" not in c.headers for c in later)


def test_hmac_default_plan_signs_timestamp_dot_raw_body(capture: CaptureServer) -> None:
    with busy_sim() as sim:
        _, credential = credential_create(
            sim, {"provider": "webhook", "authenticationPlan": {"type": "hmac", "secretKey": "hk-1"}}
        )
        place_call(sim, {"url": capture.url, "credentialId": credential["id"]})
    assert capture.received
    for captured in capture.received:
        timestamp = captured.headers["x-timestamp"]
        assert abs(int(timestamp) - time.time()) < 60, "Unix seconds, current"
        expected = hmac.new(b"hk-1", timestamp.encode() + b"." + captured.raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(captured.headers["x-signature"], expected)
        assert "x-vapi-secret" not in captured.headers


def test_hmac_plan_options_are_honoured(capture: CaptureServer) -> None:
    secret = base64.b64encode(b"binary-key\x00\x01").decode()
    plan = {
        "type": "hmac",
        "secretKey": secret,
        "secretIsBase64": True,
        "algorithm": "sha512",
        "signatureEncoding": "base64",
        "signaturePrefix": "v1=",
        "signatureHeader": "x-vapi-signature",
        "timestampHeader": "x-vapi-timestamp",
    }
    with busy_sim() as sim:
        _, credential = credential_create(sim, {"provider": "webhook", "authenticationPlan": plan})
        place_call(sim, {"url": capture.url, "credentialId": credential["id"]})
    captured = capture.received[0]
    timestamp = captured.headers["x-vapi-timestamp"]
    digest = hmac.new(
        b"binary-key\x00\x01", timestamp.encode() + b"." + captured.raw, hashlib.sha512
    ).digest()
    assert captured.headers["x-vapi-signature"] == "v1=" + base64.b64encode(digest).decode()


def test_hmac_body_only_without_timestamp(capture: CaptureServer) -> None:
    plan = {
        "type": "hmac",
        "secretKey": "hk-2",
        "includeTimestamp": False,
        "signatureHeader": "x-vapi-signature",
    }
    with busy_sim() as sim:
        _, credential = credential_create(sim, {"provider": "webhook", "authenticationPlan": plan})
        place_call(sim, {"url": capture.url, "credentialId": credential["id"]})
    for captured in capture.received:
        assert "x-timestamp" not in captured.headers
        assert (
            captured.headers["x-vapi-signature"]
            == hmac.new(b"hk-2", captured.raw, hashlib.sha256).hexdigest()
        )


def test_hmac_helper_formats() -> None:
    body = b'{"message":{"type":"hang","note":"{timestamp}"}}'
    headers = hmac_headers(
        body=body,
        url="https://x.example/w",
        now=1700000000.5,
        plan={"secretKey": "k", "payloadFormat": "{method}:{url}:{timestamp}:{body}"},
    )
    signed = b"POST:https://x.example/w:1700000000:" + body
    assert headers == {
        "x-signature": hmac.new(b"k", signed, hashlib.sha256).hexdigest(),
        "x-timestamp": "1700000000",
    }
    millis = hmac_headers(body=body, url="u", plan={"secretKey": "k"}, unit="ms", now=1700000000.5)
    assert millis["x-timestamp"] == "1700000000500"


def test_tool_server_credential_is_used_for_its_tool_calls(capture: CaptureServer) -> None:
    with running_simulator(time_factor=500, scenario="account-status", secret="assistant-level") as sim:
        _, credential = credential_create(
            sim, {"provider": "webhook", "authenticationPlan": {"type": "bearer", "token": "tool-token"}}
        )
        tool = {
            "type": "function",
            "function": {"name": "get_customer_info"},
            "server": {"url": capture.url, "credentialId": credential["id"]},
        }
        assistant = sim.store.add(
            "assistants",
            {
                "name": "Tools",
                "server": {"url": capture.url},
                "model": {"provider": "openai", "tools": [tool]},
            },
        )
        call_create(
            sim,
            {"assistantId": assistant["id"], "phoneNumberId": PHONE, "customer": {"number": "+15555550123"}},
        )
        assert sim.wait_for_calls(timeout=30)
    tool_calls = capture.of_type("tool-calls")
    assert len(tool_calls) == 1 and tool_calls[0].headers["authorization"] == "Bearer tool-token"
    others = [c for c in capture.received if c.type != "tool-calls"]
    assert others and {c.headers.get("x-vapi-secret") for c in others} == {"assistant-level"}
