"""/metrics: django-prometheus plus our counters, histograms and scrape-time gauges."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from calls.enums import CallStatus, EventState
from tests.factories import CallFactory, CampaignFactory, WebhookEventFactory
from voiceops import metrics


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(autouse=True)
def fresh_gauges():
    metrics.DATABASE_COLLECTOR.reset()
    yield
    metrics.DATABASE_COLLECTOR.reset()


@pytest.mark.django_db
def test_metrics_endpoint_serves_django_and_voiceops_metrics_at_exact_path(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    body = response.content.decode()
    assert "django_http_requests_before_middlewares_total" in body
    assert "voiceops_sweeper_backlog_events" in body
    assert client.get("/metrics/").status_code == 404


@pytest.mark.django_db
def test_scrape_time_gauges_count_backlog_and_active_campaign_calls(client):
    campaign = CampaignFactory()
    CallFactory.create_batch(2, campaign=campaign, status=CallStatus.IN_PROGRESS)
    CallFactory(campaign=campaign, status=CallStatus.RINGING)
    CallFactory(campaign=campaign, status=CallStatus.ENDED)
    CallFactory(campaign=None, status=CallStatus.IN_PROGRESS)  # not a campaign call
    WebhookEventFactory.create_batch(4)
    WebhookEventFactory(state=EventState.PROCESSED)

    body = client.get("/metrics").content.decode()

    assert "voiceops_campaign_active_calls 3.0" in body
    assert "voiceops_sweeper_backlog_events 4.0" in body
    assert "voiceops_metrics_database_up 1.0" in body


@pytest.mark.django_db
def test_gauges_are_cached_briefly_so_scrapes_stay_cheap(client, django_assert_max_num_queries, settings):
    settings.METRICS_DB_CACHE_SECONDS = 60
    client.get("/metrics")
    with django_assert_max_num_queries(0):
        client.get("/metrics")


def test_recording_functions_update_the_registry():
    before = sample("voiceops_webhook_events_total", type="status-update", outcome="stored")
    metrics.webhook_observed("status-update", "stored", 0.012)
    assert sample("voiceops_webhook_events_total", type="status-update", outcome="stored") == before + 1
    assert sample("voiceops_webhook_duration_seconds_count", type="status-update") >= 1

    before = sample("voiceops_tool_duration_seconds_count", tool="book_appointment", outcome="ok")
    metrics.tool_observed("book_appointment", "ok", 0.2)
    assert sample("voiceops_tool_duration_seconds_count", tool="book_appointment", outcome="ok") == before + 1

    before = sample("voiceops_dispatch_decisions_total", rule="outside_window")
    metrics.dispatch_decided("outside_window", 3)
    assert sample("voiceops_dispatch_decisions_total", rule="outside_window") == before + 3

    before = sample("voiceops_push_failures_total", reason="rate_limited")
    metrics.push_failed("rate_limited")
    assert sample("voiceops_push_failures_total", reason="rate_limited") == before + 1


def test_label_values_from_payloads_cannot_grow_the_registry_without_bound():
    for i in range(metrics.MAX_LABEL_VALUES * 2):
        metrics.webhook_observed(f"made-up-type-{i}", "stored")
    types = {
        s.labels["type"]
        for family in REGISTRY.collect()
        if family.name == "voiceops_webhook_events"
        for s in family.samples
    }
    assert len(types - metrics.KNOWN_MESSAGE_TYPES) <= metrics.MAX_LABEL_VALUES + 1
    assert metrics.OTHER in types


def test_recording_never_raises():
    metrics.webhook_observed("x", "y", "not-a-number")  # type: ignore[arg-type]


@pytest.mark.django_db
def test_metrics_token_when_configured(client, settings):
    settings.METRICS_TOKEN = "scrape-token-1234"
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-1234"})
    assert ok.status_code == 200


@pytest.mark.django_db
def test_a_malformed_content_length_is_not_a_500(client):
    client.raise_request_exception = False
    response = client.get("/healthz", headers={"Content-Length": "ten"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_the_webhook_records_its_events_and_latency(client):
    from tests.faults.lifecycle import URL, auth_headers, lifecycle_bodies

    _, [(_, body)] = lifecycle_bodies(names=("status-update-ringing.json",))
    before = sample("voiceops_webhook_events_total", type="status-update", outcome="stored")
    refused = sample("voiceops_webhook_events_total", type="unparsed", outcome="unauthorized")
    assert (
        client.post(URL, data=body, content_type="application/json", headers=auth_headers()).status_code
        == 200
    )
    assert client.post(URL, data=body, content_type="application/json").status_code == 401
    assert sample("voiceops_webhook_events_total", type="status-update", outcome="stored") == before + 1
    assert sample("voiceops_webhook_events_total", type="unparsed", outcome="unauthorized") == refused + 1
    assert sample("voiceops_webhook_duration_seconds_count", type="status-update") >= 1
