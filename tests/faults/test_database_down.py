"""Postgres unavailable: requests that need it get a quick JSON 503, and recover by themselves."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model

HANG = 10.0


def test_a_view_that_needs_the_database_answers_503_json_then_recovers(client, pg_proxy):
    user = get_user_model().objects.create_superuser("root", password="pw-long-enough-1")
    client.force_login(user)
    client.raise_request_exception = False  # what a real server answers, not the test re-raise
    assert client.get("/admin/").status_code == 200

    pg_proxy.stop()
    started = time.monotonic()
    response = client.get("/admin/")
    elapsed = time.monotonic() - started
    print(f"/admin/ with Postgres down: {response.status_code} in {elapsed:.3f}s")
    assert response.status_code == 503 and elapsed < HANG
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "database_unavailable"
    assert response["Retry-After"] == "5"

    pg_proxy.start()
    assert client.get("/admin/").status_code == 200
