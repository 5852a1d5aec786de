"""Admin changelists on large tables: time and query count at 1k vs 100k rows, ours vs Django's defaults.

Run: .venv/bin/python bench/admin_changelists.py [--rows 100000]
Creates (and drops) its own database ``<DB>_adminbench`` on the configured Postgres server.
"Django default" = the stock Paginator (full COUNT(*)), show_full_result_count=True and
the stock DISTINCT-based date hierarchy: what the same admin costs without our changes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402


def fill(rows: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE calls_call, calls_webhookevent CASCADE")
        cursor.execute(
            """
            INSERT INTO calls_call (vapi_id, direction, status, ended_reason, outcome, duration_seconds,
              cost, cost_breakdown, recording_url, stereo_recording_url, summary, structured_data,
              success_evaluation, transcript_text, has_final_report, assistant_version, vapi_assistant_id,
              customer_number, vapi_call, created_at, updated_at)
            SELECT 'bench-' || g, 'outbound', 'ended', 'customer-ended-call', 'completed', 60, 0.1,
              '{"total": 0.1}', '', '', repeat('summary ', 40), '{}', 'true', repeat('words ', 200), true,
              NULL, '',
              '+1202555' || lpad((g %% 10000)::text, 4, '0'), '{"id": "x"}',
              now() - (g || ' minutes')::interval, now()
            FROM generate_series(1, %s) g
            """,
            [rows],
        )
        cursor.execute(
            """
            INSERT INTO calls_webhookevent (message_type, vapi_call_id, body, headers, received_at,
              dedupe_key, state, attempts, error, traceback)
            SELECT 'status-update', 'bench-' || g, repeat('x', 800), '{}',
              now() - (g || ' seconds')::interval, 'bench-' || g, 'processed', 1, '', ''
            FROM generate_series(1, %s) g
            """,
            [rows],
        )
        cursor.execute("ANALYZE calls_call")
        cursor.execute("ANALYZE calls_webhookevent")


def measure(client, url: str, runs: int = 7) -> tuple[float, int]:
    client.get(url)  # warm
    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(ctx.captured_queries)
    return statistics.median(times), queries


def stock(model_admin) -> dict:
    """Switch one admin to Django's defaults; returns what to restore."""
    saved = {
        k: getattr(model_admin, k) for k in ("paginator", "show_full_result_count", "change_list_template")
    }
    model_admin.paginator = Paginator
    model_admin.show_full_result_count = True
    model_admin.change_list_template = None
    return saved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    name = settings.DATABASES["default"]["NAME"] + "_adminbench"
    connection.settings_dict.setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from django.contrib.auth.models import User
        from django.test import Client

        from calls.models import Call, WebhookEvent

        User.objects.create_superuser("bench", "bench@example.com", "bench-password-123")
        client = Client()
        client.login(username="bench", password="bench-password-123")
        pages = {"calls": "/admin/calls/call/", "events": "/admin/calls/webhookevent/"}
        admins = {"calls": admin.site._registry[Call], "events": admin.site._registry[WebhookEvent]}
        print(f"{'rows':>8} {'page':<7} {'ours ms':>8} {'queries':>8} {'django ms':>10} {'queries':>8}")
        for rows in (1_000, args.rows):
            fill(rows)
            for key, url in pages.items():
                ours_ms, ours_q = measure(client, url)
                saved = stock(admins[key])
                try:
                    stock_ms, stock_q = measure(client, url)
                finally:
                    for attr, value in saved.items():
                        setattr(admins[key], attr, value)
                print(f"{rows:>8} {key:<7} {ours_ms:>8.1f} {ours_q:>8} {stock_ms:>10.1f} {stock_q:>8}")
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
