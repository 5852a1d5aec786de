"""Structured logs: one JSON object per line, request/call ids bound, numbers and secrets masked."""

from __future__ import annotations

import json
import logging

import pytest
import structlog
from django.conf import settings

from tests.logcapture import capture_logs
from voiceops.logging import bind_call_id, call_context, mask_number, redact_text

NUMBER = "+15555550123"


def test_structlog_line_masks_full_numbers_and_every_configured_secret():
    log = structlog.get_logger("tests.logging")
    secrets = [settings.VAPI_API_KEY, settings.SECRET_KEY, *settings.VAPI_WEBHOOK_SECRET]
    with capture_logs() as captured:
        log.info("leaky", customer=NUMBER, nested={"to": "+44 20 7183 8750", "keys": secrets})
    (line,) = captured.lines
    record = json.loads(line)
    assert record["event"] == "leaky"
    assert NUMBER not in line and "2071838750" not in line
    assert record["customer"] == mask_number(NUMBER)
    for secret in secrets:
        assert secret not in line
    assert line.count("[redacted]") == len(secrets)


def test_stdlib_lines_and_tracebacks_are_scrubbed_too():
    logger = logging.getLogger("tests.stdlib")
    with capture_logs() as captured:
        logger.warning("dialing %s with key %s", NUMBER, settings.VAPI_API_KEY)
        try:
            raise ValueError(f"Vapi refused {NUMBER}")
        except ValueError:
            logger.exception("failed")
    assert len(captured.lines) == 2
    for line in captured.lines:
        json.loads(line)  # still one JSON object per line
        assert NUMBER not in line
        assert settings.VAPI_API_KEY not in line
    assert "ValueError" in captured.lines[1]


@pytest.mark.parametrize(
    "text",
    ["2026-11-25T04:18:05+00:00", "timestamp 1741964565101", "cost +0.5", "id abc+12"],
)
def test_things_that_are_not_phone_numbers_are_left_alone(text):
    assert redact_text(text, []) == text


def test_secret_rotation_is_honoured_at_log_time(settings):
    settings.VAPI_WEBHOOK_SECRET = ["whsec-brand-new-9c1e"]
    with capture_logs() as captured:
        structlog.get_logger("t").info("x", s="whsec-brand-new-9c1e")
    assert "whsec-brand-new-9c1e" not in captured.lines[0]


@pytest.mark.django_db
def test_every_line_of_a_request_carries_the_same_request_id(client):
    with capture_logs() as captured:
        response = client.get("/healthz")
    assert response.status_code == 200
    records = captured.records
    assert {r["event"] for r in records} >= {"request_started", "request_finished"}
    request_ids = {r.get("request_id") for r in records}
    assert len(request_ids) == 1 and None not in request_ids


def test_call_id_is_bound_for_a_block_and_then_forgotten():
    log = structlog.get_logger("t")
    with capture_logs() as captured:
        with call_context("call-abc", event_id=7):
            log.info("inside")
        log.info("outside")
    inside, outside = captured.records
    assert inside["call_id"] == "call-abc" and inside["event_id"] == 7
    assert "call_id" not in outside


def test_bind_call_id_binds_until_the_context_is_cleared():
    log = structlog.get_logger("t")
    structlog.contextvars.clear_contextvars()
    with capture_logs() as captured:
        bind_call_id("call-xyz")
        log.info("one")
        structlog.contextvars.clear_contextvars()
        log.info("two")
    one, two = captured.records
    assert one["call_id"] == "call-xyz" and "call_id" not in two
