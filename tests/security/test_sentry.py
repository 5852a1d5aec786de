"""Sentry: off without SENTRY_DSN, on with it, and nothing personal or secret in an event."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

from tests.security.test_deploy_check import PRODUCTION_ENV, ROOT
from voiceops.sentry import scrub_event

NUMBER = "+15555550123"


def sentry_event() -> dict:
    return {
        "message": f"Tool failed for {NUMBER}",
        "request": {
            "url": "https://voiceops.example.com/webhooks/vapi/",
            "method": "POST",
            "data": {"message": {"customer": {"number": NUMBER}}},
            "query_string": f"number={NUMBER}",
            "cookies": {"sessionid": "abc"},
            "headers": {
                "Content-Type": "application/json",
                "X-Vapi-Secret": settings.VAPI_WEBHOOK_SECRET[0],
                "Authorization": f"Bearer {settings.VAPI_WEBHOOK_SECRET[1]}",
                "Cookie": "sessionid=abc",
                "User-Agent": "Vapi/1.0",
            },
            "env": {"REMOTE_ADDR": "192.0.2.1"},
        },
        "user": {"ip_address": "192.0.2.1", "email": "ops@example.com"},
        "breadcrumbs": {"values": [{"message": f"dialing {NUMBER} with {settings.VAPI_API_KEY}"}]},
        "exception": {
            "values": [
                {
                    "type": "VapiBadRequest",
                    "value": f"400 customer.number {NUMBER} is invalid",
                    "stacktrace": {"frames": [{"vars": {"key": settings.VAPI_API_KEY, "n": NUMBER}}]},
                }
            ]
        },
        "extra": {"secret_key": settings.SECRET_KEY},
    }


def test_scrubber_drops_bodies_cookies_and_secret_headers():
    scrubbed = scrub_event(sentry_event(), {})
    request = scrubbed["request"]
    assert "data" not in request and "cookies" not in request and "env" not in request
    assert request["query_string"] == "[filtered]"
    assert set(request["headers"]) == {"Content-Type", "User-Agent"}
    assert "user" not in scrubbed
    assert request["url"] == "https://voiceops.example.com/webhooks/vapi/"


def test_scrubber_masks_numbers_and_secrets_everywhere_else():
    scrubbed = scrub_event(sentry_event(), {})
    text = json.dumps(scrubbed)
    assert NUMBER not in text
    for secret in [settings.VAPI_API_KEY, settings.SECRET_KEY, *settings.VAPI_WEBHOOK_SECRET]:
        assert secret not in text
    assert scrubbed["exception"]["values"][0]["type"] == "VapiBadRequest"
    assert "+155***0123" in scrubbed["message"]


def _sentry_options(**env: str) -> dict:
    code = (
        "import json,django;django.setup();import sentry_sdk;from django.conf import settings as s;"
        "c=sentry_sdk.get_client();o=c.options if c.is_active() else {};"
        "print(json.dumps({'enabled': s.SENTRY_ENABLED, 'active': c.is_active(),"
        "'pii': o.get('send_default_pii'), 'before_send': getattr(o.get('before_send'),'__name__',None),"
        "'body': o.get('max_request_body_size')}))"
    )
    child_env = {"PATH": os.environ.get("PATH", ""), **PRODUCTION_ENV, **env}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=60
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_sentry_is_off_without_a_dsn_and_on_with_pii_scrubbing_with_one():
    assert _sentry_options() == {
        "enabled": False,
        "active": False,
        "pii": None,
        "before_send": None,
        "body": None,
    }
    # A DSN on a reserved, unresolvable domain: nothing is captured, so nothing is sent.
    options = _sentry_options(SENTRY_DSN="https://public@sentry.invalid/1")
    assert options == {
        "enabled": True,
        "active": True,
        "pii": False,
        "before_send": "scrub_event",
        "body": "never",
    }
