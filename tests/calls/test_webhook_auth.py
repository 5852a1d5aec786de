"""Webhook authentication: each scheme with each secret, and every way to fail it (CONTRACT §2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from calls.models import WebhookEvent
from tests.calls.conftest import PREVIOUS_SECRET, SECRET, hmac_headers, post
from tests.conftest import load_fixture
from voiceops.vapi.auth import HmacConfig, auth_failure_counts, hmac_signature, parse_timestamp

pytestmark = pytest.mark.django_db

SECRETS = [SECRET, PREVIOUS_SECRET]


def body() -> bytes:
    return json.dumps(load_fixture("status-update-ringing.json")).encode()


def headers_for(scheme: str, secret: str, payload: bytes) -> dict[str, str]:
    if scheme == "secret":
        return {"X-Vapi-Secret": secret}
    if scheme == "bearer":
        return {"Authorization": f"Bearer {secret}"}
    return hmac_headers(payload, secret=secret)


def assert_refused(response, reason: str | None = None, *, rows: int = 0) -> None:
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "unauthorized"
    if reason:
        assert reason in response.json()["error"]
    assert WebhookEvent.objects.count() == rows  # nothing stored for a refusal


@pytest.mark.parametrize("secret", SECRETS, ids=["current", "previous"])
@pytest.mark.parametrize("scheme", ["secret", "bearer", "hmac"])
def test_each_scheme_accepts_each_secret(client, scheme, secret):
    payload = body()
    response = post(client, payload, headers=headers_for(scheme, secret, payload))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().headers["auth-scheme"] == scheme


@pytest.mark.parametrize("scheme", ["secret", "bearer", "hmac"])
def test_each_scheme_refuses_a_wrong_secret(client, scheme):
    payload = body()
    assert_refused(
        post(client, payload, headers=headers_for(scheme, "whsec-wrong-0000", payload)), "mismatch"
    )


@pytest.mark.parametrize("scheme", ["secret", "bearer", "hmac"])
def test_a_scheme_switched_off_refuses_even_a_right_secret(client, settings, scheme):
    settings.VAPI_WEBHOOK_AUTH = [s for s in ("secret", "bearer", "hmac") if s != scheme]
    payload = body()
    assert_refused(post(client, payload, headers=headers_for(scheme, SECRET, payload)), "credentials_missing")


def test_missing_credentials_are_refused_and_counted(client):
    before = auth_failure_counts().get("credentials_missing", 0)
    assert_refused(post(client, body(), headers={}), "credentials_missing")
    assert auth_failure_counts()["credentials_missing"] == before + 1


def test_no_configured_secret_refuses_everything(client, settings):
    settings.VAPI_WEBHOOK_SECRET = []
    assert_refused(post(client, body(), headers={"X-Vapi-Secret": ""}), "no_secret_configured")


def test_secret_is_compared_whole_not_as_a_prefix(client):
    assert_refused(post(client, body(), headers={"X-Vapi-Secret": SECRET[:-1]}))
    assert_refused(post(client, body(), headers={"X-Vapi-Secret": SECRET + "x"}))


def test_bearer_header_name_is_configurable_and_prefix_optional(client, settings):
    settings.VAPI_WEBHOOK_BEARER_HEADER = "X-Voiceops-Token"
    assert post(client, body(), headers={"X-Voiceops-Token": SECRET}).status_code == 200
    assert post(client, body(), headers={"X-Voiceops-Token": f"bearer {PREVIOUS_SECRET}"}).status_code == 200
    assert_refused_status = post(
        client, b'{"message": {"type": "x"}}', headers={"Authorization": f"Bearer {SECRET}"}
    )
    assert assert_refused_status.status_code == 401


# --- HMAC exactly as the contract says -----------------------------------------------------


def test_hmac_default_is_hex_sha256_over_timestamp_dot_raw_body():
    payload = b'{"message": {"type": "status-update",   "status": "ringing"}}'  # odd spacing kept
    stamp = "1741964401"
    expected = hmac.new(SECRET.encode(), b"1741964401." + payload, hashlib.sha256).hexdigest()
    config = HmacConfig.from_settings()
    assert (config.signature_header, config.timestamp_header) == ("x-signature", "x-timestamp")
    assert hmac_signature(secret=SECRET, body=payload, timestamp=stamp, config=config) == expected


def test_hmac_over_reserialised_json_is_refused(client):
    payload = body()
    headers = hmac_headers(payload)
    reserialised = json.dumps(json.loads(payload), separators=(",", ":")).encode()
    assert_refused(post(client, reserialised, headers=headers), "hmac_mismatch")


def test_hmac_with_prefix_base64_and_sha512(client, settings):
    settings.VAPI_WEBHOOK_HMAC_ALGORITHM = "sha512"
    settings.VAPI_WEBHOOK_HMAC_ENCODING = "base64"
    settings.VAPI_WEBHOOK_HMAC_PREFIX = "sha512="
    payload = body()
    stamp = str(int(time.time()))
    digest = hmac.new(PREVIOUS_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha512).digest()
    signature = "sha512=" + base64.b64encode(digest).decode()
    response = post(client, payload, headers={"x-signature": signature, "x-timestamp": stamp})
    assert response.status_code == 200


def test_body_only_x_vapi_signature_variant_is_one_setting_away(client, settings):
    settings.VAPI_WEBHOOK_HMAC_SIGNATURE_HEADER = "x-vapi-signature"
    settings.VAPI_WEBHOOK_HMAC_PAYLOAD_FORMAT = "{body}"
    payload = body()
    signature = hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()
    assert post(client, payload, headers={"x-vapi-signature": signature}).status_code == 200
    assert_refused(post(client, payload + b" ", headers={"x-vapi-signature": signature}), rows=1)


def test_hex_signature_case_does_not_matter(client):
    payload = body()
    headers = hmac_headers(payload)
    headers["x-signature"] = headers["x-signature"].upper()
    assert post(client, payload, headers=headers).status_code == 200


def test_hmac_accepts_timestamps_in_milliseconds_and_iso(client):
    payload = body()
    millis = str(int(time.time() * 1000))
    assert post(client, payload, headers=hmac_headers(payload, timestamp=millis)).status_code == 200
    WebhookEvent.objects.all().delete()
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    assert post(client, payload, headers=hmac_headers(payload, timestamp=iso)).status_code == 200


@pytest.mark.parametrize("age_seconds", [301, -301, 3600])
@pytest.mark.parametrize("unit", ["seconds", "milliseconds"])
def test_stale_hmac_timestamps_are_refused(client, age_seconds, unit):
    payload = body()
    sent = time.time() - age_seconds
    stamp = str(int(sent)) if unit == "seconds" else str(int(sent * 1000))
    assert_refused(
        post(client, payload, headers=hmac_headers(payload, timestamp=stamp)), "hmac_timestamp_stale"
    )


def test_missing_or_garbage_timestamp_is_refused(client):
    payload = body()
    headers = hmac_headers(payload)
    del headers["x-timestamp"]
    assert_refused(post(client, payload, headers=headers), "hmac_timestamp_missing")
    assert_refused(
        post(client, payload, headers=hmac_headers(payload, timestamp="soon")), "hmac_timestamp_missing"
    )


def test_a_captured_request_replayed_later_is_refused(client, time_machine):
    payload = body()
    captured = hmac_headers(payload)
    assert post(client, payload, headers=captured).status_code == 200
    time_machine.move_to(time.time() + 600, tick=False)
    WebhookEvent.objects.all().delete()
    assert_refused(post(client, payload, headers=captured), "hmac_timestamp_stale")
    # Freshening the timestamp breaks the signature, since the timestamp is signed.
    fresh = {**captured, "x-timestamp": str(int(time.time()))}
    assert_refused(post(client, payload, headers=fresh), "hmac_mismatch")


def test_a_replay_inside_the_window_is_the_same_delivery_and_stored_once(client):
    payload = body()
    headers = hmac_headers(payload)
    assert post(client, payload, headers=headers).status_code == 200
    assert post(client, payload, headers=headers).status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_one_wrong_credential_does_not_block_a_right_one(client):
    payload = body()
    headers = {"X-Vapi-Secret": "stale-legacy-secret", **hmac_headers(payload)}
    assert post(client, payload, headers=headers).status_code == 200


def test_authentication_runs_before_parsing(client):
    response = post(client, b"{not json", headers={"X-Vapi-Secret": "nope"})
    assert response.status_code == 401


def test_refusals_log_neither_secret_nor_body(client, caplog):
    payload = body()
    post(
        client,
        payload,
        headers={"X-Vapi-Secret": "whsec-leaky-9999", "Authorization": "Bearer whsec-leaky-8888"},
    )
    logged = caplog.text + " ".join(str(record.msg) for record in caplog.records)
    assert "webhook.auth.refused" in logged
    assert "whsec-leaky" not in logged and SECRET not in logged and "+14155550123" not in logged


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1741964401", 1741964401.0),
        ("1741964401930", 1741964401.93),
        ("2025-03-14T15:00:01Z", 1741964401.0),
        ("", None),
        ("nan", None),
        ("abc", None),
    ],
)
def test_parse_timestamp_units(value, expected):
    assert parse_timestamp(value) == (pytest.approx(expected) if expected else None)


def test_payload_format_with_method_and_url(client, settings):
    settings.VAPI_WEBHOOK_HMAC_PAYLOAD_FORMAT = "{method} {url}\n{timestamp}.{body}"
    payload = body()
    stamp = str(int(time.time()))
    signed = f"POST http://testserver/webhooks/vapi/\n{stamp}.".encode() + payload
    signature = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert post(client, payload, headers={"x-signature": signature, "x-timestamp": stamp}).status_code == 200


def test_base64_encoded_secret(client, settings):
    settings.VAPI_WEBHOOK_HMAC_SECRET_IS_BASE64 = True
    raw_key = b"\x00\x01binary-key\xff"
    settings.VAPI_WEBHOOK_SECRET = [base64.b64encode(raw_key).decode(), "not base64!"]
    payload = body()
    stamp = str(int(time.time()))
    signature = hmac.new(raw_key, f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    assert post(client, payload, headers={"x-signature": signature, "x-timestamp": stamp}).status_code == 200
