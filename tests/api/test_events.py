"""/api/v1/webhook-events/: read-only ledger, filters, cursor pages."""

from __future__ import annotations

import pytest

from tests.api.conftest import assert_error
from tests.factories import WebhookEventFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhook-events/"


def test_list_newest_first_with_filters(reader):
    a = WebhookEventFactory(message_type="status-update")
    b = WebhookEventFactory(message_type="end-of-call-report", state="failed", error="boom")
    body = reader.get(URL).json()
    assert [e["id"] for e in body["results"]] == [b.pk, a.pk]
    failed = reader.get(URL, {"state": "failed"}).json()["results"]
    assert [e["id"] for e in failed] == [b.pk] and failed[0]["error"] == "boom"
    assert [e["id"] for e in reader.get(URL, {"vapi_call_id": a.vapi_call_id}).json()["results"]] == [a.pk]


def test_detail_carries_the_raw_body(reader):
    event = WebhookEventFactory()
    assert reader.get(f"{URL}{event.pk}/").json()["body"] == event.body


def test_events_cannot_be_written(admin_client):
    event = WebhookEventFactory()
    assert_error(admin_client.post(URL, {}, format="json"), 405, "method_not_allowed")
    assert_error(admin_client.delete(f"{URL}{event.pk}/"), 405, "method_not_allowed")
