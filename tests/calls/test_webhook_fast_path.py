"""POST /webhooks/vapi/ runs its own short stack (calls/webhooks/middleware.py).

The webhook keeps what it needs from the full stack (SecurityMiddleware's redirect and
headers, the Host check) and skips what it never uses: sessions, CSRF, CSP, the per-request
log lines. Every other path keeps the full stack.
"""

from __future__ import annotations

import uuid

import pytest

from calls.models import WebhookEvent
from tests.calls.conftest import URL, post
from tests.logcapture import capture_logs

pytestmark = pytest.mark.django_db


def status_update() -> dict:
    return {
        "message": {
            "type": "status-update",
            "status": "ringing",
            "timestamp": 1764043200000,
            "call": {"id": str(uuid.uuid4()), "type": "outboundPhoneCall"},
        }
    }


def test_webhook_skips_the_full_stack_and_keeps_the_security_headers(client):
    with capture_logs() as logs:
        response = post(client, status_update())
    assert response.status_code == 200 and response.json() == {}
    assert WebhookEvent.objects.count() == 1
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still ran
    assert response["Content-Length"] == "2"  # a plain body, never chunked
    assert "Content-Security-Policy" not in response  # CSP did not
    assert not response.cookies  # no session, no CSRF cookie
    assert not logs.events("request_started") and not logs.events("request_finished")


def test_other_paths_keep_the_full_stack(client):
    with capture_logs() as logs:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    assert logs.events("request_started") and logs.events("request_finished")


def test_webhook_still_refuses_an_unknown_host(client):
    response = client.post(
        URL,
        data=b"{}",
        content_type="application/json",
        headers={"X-Vapi-Secret": "x"},
        HTTP_HOST="evil.example",
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_webhook_is_redirected_to_https_like_every_path(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = post(client, status_update())
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert not WebhookEvent.objects.exists()


def test_only_post_is_answered_with_a_json_405(client):
    response = client.get(URL)
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
