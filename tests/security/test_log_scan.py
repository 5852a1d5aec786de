"""No secret and no full phone number in any log line across a whole call's life.

Everything a call touches runs with the production log pipeline attached: every fixture
through the webhook (processed on commit), a tool call, an assistant push and an outbound
dial against ``responses``, a failing push, an authentication failure. Every captured line
is then searched for the configured secrets and for any full E.164 number.

Two views are scanned: the lines as written (must be clean) and the same events rendered
without the redaction step (what the code itself handed to the logger), which is reported
so a leak in application code is visible even though the last line of defence caught it.
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from pathlib import Path

import pytest
import responses
import structlog
from django.conf import settings

from assistants.services.push import assistant_push
from calls.campaigns.services.outbound import call_place_outbound
from tests.calls.campaign_support import FakeVapi
from tests.conftest import FIXTURES
from tests.factories import AssistantFactory, CustomerFactory, PhoneNumberFactory, ResourceFactory
from tests.faults.lifecycle import URL, auth_headers
from tests.logcapture import capture_logs

pytestmark = pytest.mark.django_db

FULL_NUMBER = re.compile(r"\+?1?\d{10}(?!\d)|\+[1-9]\d{7,14}")
VAPI = "http://vapi.test"


def fixture_numbers() -> set[str]:
    found: set[str] = set()
    for path in Path(FIXTURES).rglob("*.json"):
        found.update(re.findall(r"\+1\d{10}", path.read_text(encoding="utf-8")))
    return found


def raw_formatter() -> logging.Formatter:
    """The production renderer minus the redaction step."""
    from voiceops.logging import SHARED_PROCESSORS

    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )


def leaks(line: str, secrets: list[str], numbers: set[str]) -> list[str]:
    found = [f"secret:{s[:6]}..." for s in secrets if s in line]
    found += [f"number:{n[:5]}..." for n in numbers if n in line or n[2:] in line]
    return found


def test_a_whole_call_lifecycle_logs_no_secret_and_no_full_number(client, django_capture_on_commit_callbacks):
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    secrets = [settings.VAPI_API_KEY, settings.SECRET_KEY, *settings.VAPI_WEBHOOK_SECRET]
    numbers = fixture_numbers() | {"+14155550199", "+12125550111"}
    assistant = AssistantFactory(vapi_id="a3f1c9e2-4b6d-4e8a-9c1f-7d2e5b8a0c34", pushed_version=2)
    PhoneNumberFactory(
        vapi_id="9e4b2d71-3c5a-4f88-b1d6-0a7c3e9f5b12", number="+12125550187", assistant=assistant
    )
    CustomerFactory(number="+14155550123", name="Dana Whitfield")
    ResourceFactory(name="Dr. Patel")

    raw_stream = io.StringIO()
    raw_handler = logging.StreamHandler(raw_stream)
    raw_handler.setFormatter(raw_formatter())
    root = logging.getLogger()
    root.addHandler(raw_handler)
    try:
        with capture_logs(logging.DEBUG) as captured:
            names = sorted(p.name for p in Path(FIXTURES).glob("*.json") if p.name != "ended-reasons.json")
            for name in names:
                with django_capture_on_commit_callbacks(execute=True):
                    response = client.post(
                        URL,
                        data=(Path(FIXTURES) / name).read_bytes(),
                        content_type="application/json",
                        headers=auth_headers(),
                    )
                assert response.status_code == 200, (name, response.content)
            # an attacker's guess at the secret, and a body carrying a number
            client.post(
                URL,
                data=b'{"n": "+14155550199"}',
                content_type="application/json",
                headers={"X-Vapi-Secret": "whsec-guess"},
            )
            with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
                # The push ensures our webhook credential first; answer it here rather than lean on
                # a credential row another test may or may not have left behind.
                rsps.add(responses.POST, f"{VAPI}/credential", json={"id": "cred-log-scan"}, status=201)
                rsps.add(responses.PATCH, f"{VAPI}/credential/cred-log-scan", json={"id": "cred-log-scan"})
                rsps.add(responses.POST, f"{VAPI}/assistant", json={"id": str(uuid.uuid4())}, status=201)
                rsps.add(
                    responses.PATCH, f"{VAPI}/assistant/{assistant.vapi_id}", json={"id": assistant.vapi_id}
                )
                try:
                    assistant_push(assistant=assistant)
                except Exception:  # noqa: BLE001 - a refused push is logged too; that is what we scan
                    logging.getLogger("tests").exception("push failed")
                FakeVapi(rsps)
                call_place_outbound(assistant=assistant, customer_number="+14155550199", customer_name="Pat")
            assistant.refresh_from_db()
            type(assistant).objects.filter(pk=assistant.pk).update(first_message="Hello again from Riley.")
            assistant.refresh_from_db()
            with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
                rsps.add(
                    responses.POST,
                    f"{VAPI}/assistant",
                    json={"message": ["customer.number +12125550111 is invalid"]},
                    status=400,
                )
                rsps.add(
                    responses.PATCH,
                    f"{VAPI}/assistant/{assistant.vapi_id}",
                    json={"message": ["customer.number +12125550111 is invalid"]},
                    status=400,
                )
                try:
                    assistant_push(assistant=assistant)
                except Exception:  # noqa: BLE001
                    logging.getLogger("tests").exception("push failed")
    finally:
        root.removeHandler(raw_handler)

    lines = captured.lines
    # The scan covers every stage that handles a secret or a number (not a line count: how many
    # one-time lines Celery writes depends on which tests ran first in the process).
    events = {json.loads(line).get("event") for line in lines if line.startswith("{")}
    for stage in (
        "webhook.auth.refused",
        "webhook.assistant_request",
        "webhook.processed",
        "assistants.webhook_credential.synced",
        "assistants.push.done",
        "assistants.push.failed",
        "outbound.dial",
        "vapi.request",
    ):
        assert stage in events, stage
    assert len(raw_stream.getvalue().splitlines()) >= len(lines)  # the raw view saw the same events
    written = [(line, leaks(line, secrets, numbers)) for line in lines]
    written = [(line, found) for line, found in written if found]
    raw = [line for line in raw_stream.getvalue().splitlines() if leaks(line, secrets, numbers)]
    print(
        f"log scan: {len(lines)} lines written, {len(written)} with a secret or full number; "
        f"{len(raw)} lines would have leaked without the redaction step"
    )
    assert written == [], written[:3]
