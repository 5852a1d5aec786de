"""POST /api/v1/calls/ when Vapi or the org's budget says "not now": 429/503 with Retry-After, and the
Idempotency-Key does not keep the refusal as the final answer."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import responses
import time_machine

from calls.enums import AttemptState
from calls.models import Call, DialAttempt
from tests.api.conftest import assert_error
from tests.calls.campaign_support import FakeVapi
from tests.factories import AssistantFactory
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)
RATE_LIMITED = (429, {"Retry-After": "42"}, {"message": "Too Many Requests", "statusCode": 429})


@pytest.fixture
def vapi(settings):
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeVapi(rsps)


URL = "/api/v1/calls/"


@pytest.fixture
def caller(client_with):
    return client_with(Scope.CALLS_WRITE)


@pytest.fixture
def body():
    assistant = AssistantFactory(vapi_id=str(uuid.uuid4()), pushed_version=1)
    return {"assistant": assistant.pk, "customer_number": "+14155550177"}


def test_api_answers_429_with_retry_after_and_the_key_is_not_final(vapi, caller, body):
    vapi.script.append(RATE_LIMITED)
    with time_machine.travel(NOW, tick=False):
        first = caller.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-429")
        assert_error(first, 429, "vapi_refused")
        assert first["Retry-After"] == "42"
    with time_machine.travel(NOW + dt.timedelta(seconds=30), tick=False):
        held = caller.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-429")
        assert_error(held, 429, "outbound_budget_full")  # the org holds off for Vapi's Retry-After
        assert held["Retry-After"] == "12"
    with time_machine.travel(NOW + dt.timedelta(seconds=42), tick=False):
        again = caller.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-429")
    assert again.status_code == 201, again.json()
    assert len(vapi.payloads) == 1
    replay = caller.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-429")
    assert replay.status_code == 201 and replay.json()["id"] == again.json()["id"]
    assert len(vapi.payloads) == 1


def test_api_answers_429_when_the_org_budget_is_full(vapi, caller, body, settings):
    settings.VAPI_CONCURRENCY_LIMIT = 3
    settings.OUTBOUND_INBOUND_RESERVE = 2
    assert caller.post(URL, body, format="json").status_code == 201  # the one outbound slot
    full = caller.post(URL, {**body, "customer_number": "+14155550178"}, format="json")
    assert_error(full, 429, "outbound_budget_full")
    assert int(full["Retry-After"]) >= 1
    Call.objects.update(status="ended")  # the first call ends: its slot is free again
    assert caller.post(URL, {**body, "customer_number": "+14155550178"}, format="json").status_code == 201


def test_api_answers_503_with_retry_after_when_vapi_fails(vapi, caller, body):
    vapi.script.append((503, {}, {"message": "Service Unavailable", "statusCode": 503}))
    response = caller.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-503")
    assert_error(response, 503, "vapi_unavailable")
    assert int(response["Retry-After"]) >= 1
    attempt = DialAttempt.objects.get()
    assert attempt.state == AttemptState.UNKNOWN and attempt.next_reconcile_at is not None
