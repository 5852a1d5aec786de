"""Helpers for webhook tests: post a body the way Vapi does, with a chosen credential."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from voiceops.vapi.auth import HmacConfig, hmac_signature

SECRET = "whsec-current-7a1d"
PREVIOUS_SECRET = "whsec-previous-55c2"
URL = "/webhooks/vapi/"


def body_of(payload: dict[str, Any] | bytes | str) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload).encode()


def hmac_headers(body: bytes, *, secret: str = SECRET, timestamp: str | None = None) -> dict[str, str]:
    config = HmacConfig.from_settings()
    stamp = str(int(time.time())) if timestamp is None else timestamp
    headers = {
        config.signature_header: hmac_signature(secret=secret, body=body, timestamp=stamp, config=config)
    }
    if config.uses_timestamp:
        headers[config.timestamp_header] = stamp
    return headers


def post(
    client: Client,
    payload: dict[str, Any] | bytes | str,
    *,
    headers: dict[str, str] | None = None,
    secret: str = SECRET,
):
    body = body_of(payload)
    sent = {"X-Vapi-Secret": secret} if headers is None else headers
    return client.post(URL, data=body, content_type="application/json", headers=sent)


@pytest.fixture
def vapi_post(client, django_capture_on_commit_callbacks):
    """Post a webhook and run what it scheduled on commit (eager Celery processes it)."""

    def _post(payload, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return post(client, payload, **kwargs)

    return _post


@pytest.fixture(autouse=True)
def _stop_group_commit():
    """The group-commit writer thread holds a connection; close it so the test DB can be dropped."""
    from calls.services.group_commit import group_commit_stop

    yield
    group_commit_stop()
