"""Postgres unavailable: requests that need it get a quick JSON 503, and recover by themselves."""

from __future__ import annotations

import time

import pytest
import requests
from django.contrib.auth import get_user_model
from django.db import connection

from calls.models import WebhookEvent
from calls.services.answers import TOOL_UNAVAILABLE
from tests.faults.lifecycle import URL, auth_headers, lifecycle_bodies
from tests.faults.proxy import TcpProxy
from tests.faults.servers import WebServer, child_env, children_database_url

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


@pytest.mark.django_db(transaction=True)
def test_webhook_on_a_real_server_with_postgres_down_then_back(fault_dir):
    """gunicorn, its database behind a proxy we close: 503 JSON fast, then it heals itself."""
    target = connection.settings_dict
    proxy = TcpProxy(int(target.get("PORT") or 5432), target_host=target.get("HOST") or "127.0.0.1").start()
    web = WebServer(
        child_env(
            DATABASE_URL=children_database_url(host="127.0.0.1", port=proxy.port),
            VAPI_WEBHOOK_DISPATCH="notify",
        ),
        fault_dir / "web.log",
        workers=1,
    )
    try:
        web.wait_ready()

        def post(fixture: str) -> tuple[str, requests.Response, float]:
            call_id, [(_, body)] = lifecycle_bodies(names=(fixture,))
            started = time.monotonic()
            response = requests.post(
                f"{web.url}{URL}",
                data=body,
                headers={**auth_headers(), "Content-Type": "application/json"},
                timeout=30,
            )
            return call_id, response, time.monotonic() - started

        up_id, response, _ = post("status-update-ringing.json")
        assert response.status_code == 200

        proxy.stop()
        down_id, response, elapsed = post("status-update-ringing.json")
        print(f"webhook with Postgres down: {response.status_code} in {elapsed:.3f}s: {response.text}")
        assert response.status_code == 503 and elapsed < HANG
        assert response.headers["Content-Type"] == "application/json" and response.json()["error"]
        _, tool, _ = post("tool-calls.json")  # a caller is waiting: a spoken apology, not silence
        assert tool.status_code == 200 and all(
            r.get("error") or r.get("result") for r in tool.json()["results"]
        )
        ready = requests.get(f"{web.url}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["checks"]["database"] is False

        proxy.start()
        again_id, response, _ = post("status-update-ringing.json")
        assert response.status_code == 200
        # A caller waiting on a tool gets the real answer at once: a connection that died
        # with Postgres is replaced by the request itself (no per-request health check).
        tool_id, tool, _ = post("tool-calls.json")
        assert tool.status_code == 200 and TOOL_UNAVAILABLE not in tool.text
        assert WebhookEvent.objects.filter(vapi_call_id=tool_id, message_type="tool-calls").exists()
        assert requests.get(f"{web.url}/readyz", timeout=30).status_code == 200
        assert WebhookEvent.objects.filter(vapi_call_id__in=[up_id, again_id]).count() == 2
        assert not WebhookEvent.objects.filter(vapi_call_id=down_id).exists()  # refused, so Vapi retries
    finally:
        web.stop()
        proxy.stop()
