"""The shipped stack's Postgres connection budget fits a default Postgres (100), computed from settings."""

from __future__ import annotations

import runpy
import types
from pathlib import Path

from django.conf import settings

from voiceops.celery import app as celery_app
from voiceops.connections import check_connection_budget, connection_budget

ROOT = Path(__file__).resolve().parents[2]


def _shipped(**overrides: object) -> types.SimpleNamespace:
    """Settings as shipped, on a machine with many cores (the web default is capped, not per core)."""
    names = [
        "VAPI_WEBHOOK_GROUP_COMMIT",
        "WEB_THREADS",
        "LEDGER_WORKERS",
        "CELERY_WORKERS",
        "CELERY_WORKER_CONCURRENCY",
        "DB_MAX_CONNECTIONS",
        "DB_RESERVED_CONNECTIONS",
    ]
    conf = {name: getattr(settings, name) for name in names}
    conf["VAPI_WEBHOOK_GROUP_COMMIT"] = settings.SHIPPED_WEBHOOK_GROUP_COMMIT
    conf["WEB_WORKERS"] = settings.WEB_WORKERS_DEFAULT_MAX
    conf.update(overrides)
    return types.SimpleNamespace(**conf)


def test_the_shipped_defaults_fit_a_default_postgres_twice_over():
    budget = connection_budget(_shipped())
    counts = {kind.name: kind.connections for kind in budget.kinds}
    assert counts == {"web": 4 * (4 + 1), "ledger": 1, "worker": 4 + 1, "beat": 1}
    assert budget.needed == 27 and budget.max_connections == 100
    # Old and new processes side by side during a rolling restart still fit, with 10 kept free.
    assert budget.fits_twice and budget.available == 90


def test_the_processes_read_the_budgeted_sizes(monkeypatch):
    monkeypatch.delenv("WEB_WORKERS", raising=False)
    monkeypatch.delenv("WEB_THREADS", raising=False)
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 64)
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (gunicorn["workers"], gunicorn["threads"]) == (4, settings.WEB_THREADS)
    web = (ROOT / "scripts" / "web").read_text()
    assert "cores < 4 ? cores : 4" in web and f"WEB_THREADS:-{settings.WEB_THREADS}" in web
    # The Celery worker's concurrency is the setting, not a flag pinned in Procfile/compose.
    assert celery_app.conf.worker_concurrency == settings.CELERY_WORKER_CONCURRENCY
    for launcher in ("Procfile", "docker-compose.yml"):
        assert "--concurrency" not in (ROOT / launcher).read_text()


def test_a_budget_over_the_limit_is_a_system_check_warning(settings):
    assert check_connection_budget() == []
    settings.WEB_WORKERS = 24
    (warning,) = check_connection_budget()
    assert warning.id == "voiceops.W010" and "PgBouncer" in warning.hint
