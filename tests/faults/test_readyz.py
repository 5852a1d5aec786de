"""/readyz goes red fast when Postgres or Redis is unreachable and green again by itself."""

from __future__ import annotations

import time

import pytest

from voiceops import metrics

HANG = 10.0  # seconds; far above connect timeouts (3 s Postgres, 1 s Redis), far below a hang


def timed_get(client, path):
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def test_postgres_down_then_back(client, pg_proxy):
    assert client.get("/readyz").status_code == 200

    pg_proxy.stop()
    response, elapsed = timed_get(client, "/readyz")
    print(f"readyz with Postgres down answered {response.status_code} in {elapsed:.3f}s")
    assert response.status_code == 503 and elapsed < HANG
    assert response.json() == {"status": "unavailable", "checks": {"database": False, "broker": True}}
    assert client.get("/healthz").status_code == 200  # the process itself is alive

    metrics.DATABASE_COLLECTOR.reset()
    scrape = client.get("/metrics")
    assert scrape.status_code == 200 and b"voiceops_metrics_database_up 0.0" in scrape.content

    pg_proxy.start()
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": True, "broker": True}


@pytest.mark.django_db
def test_redis_down_then_back(client, redis_proxy):
    assert client.get("/readyz").status_code == 200

    redis_proxy.stop()
    response, elapsed = timed_get(client, "/readyz")
    print(f"readyz with Redis down answered {response.status_code} in {elapsed:.3f}s")
    assert response.status_code == 503 and elapsed < HANG
    assert response.json()["checks"] == {"database": True, "broker": False}

    redis_proxy.start()
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_redis_on_a_closed_port(client, settings):
    from tests.faults.proxy import closed_port

    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response, elapsed = timed_get(client, "/readyz")
    assert response.status_code == 503 and elapsed < HANG
