"""The Postgres connection budget: how many connections each process kind holds, from settings.

Every thread that touches the database holds one Django connection (kept ``CONN_MAX_AGE``
seconds, health-checked before reuse), so the total is fixed by the pool sizes, not by the
number of live calls: a call is a few webhooks a second through the same threads. The sizes
come from the same settings the processes read (scripts/web, gunicorn.conf.py, the Celery
worker, the ledger worker), so the budget computed here is the one the stack runs with.

    web        WEB_WORKERS x (WEB_THREADS + 1 group-commit writer)
    ledger     LEDGER_WORKERS x 1 (LISTEN and processing share one connection)
    worker     CELERY_WORKERS x (CELERY_WORKER_CONCURRENCY + 1 parent); the campaign dial
               threads (CAMPAIGN_DIAL_CONCURRENCY) only speak HTTP and hold none
    beat       1 (django-celery-beat's DatabaseScheduler)

It must stay within ``DB_MAX_CONNECTIONS - DB_RESERVED_CONNECTIONS`` (superuser slots, shells,
migrations, monitoring); the system check ``voiceops.W010`` says so at start-up when it does not.
docs/SCALING.md has the rule and what to change (fewer threads, PgBouncer) past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register


@dataclass(frozen=True)
class ProcessKind:
    name: str
    processes: int
    per_process: int
    why: str

    @property
    def connections(self) -> int:
        return self.processes * self.per_process


@dataclass(frozen=True)
class ConnectionBudget:
    kinds: tuple[ProcessKind, ...]
    max_connections: int
    reserved: int

    @property
    def needed(self) -> int:
        return sum(kind.connections for kind in self.kinds)

    @property
    def available(self) -> int:
        return self.max_connections - self.reserved

    @property
    def fits(self) -> bool:
        return self.needed <= self.available

    @property
    def fits_twice(self) -> bool:
        """Room for a rolling restart: old and new processes side by side for a moment."""
        return 2 * self.needed <= self.available


def connection_budget(conf: Any = settings) -> ConnectionBudget:
    """The budget of the stack as configured (``conf`` defaults to Django's settings)."""
    writer = 1 if conf.VAPI_WEBHOOK_GROUP_COMMIT else 0
    kinds = (
        ProcessKind(
            "web",
            conf.WEB_WORKERS,
            conf.WEB_THREADS + writer,
            "one per request thread, plus the group-commit writer",
        ),
        ProcessKind("ledger", conf.LEDGER_WORKERS, 1, "LISTEN and event processing share one"),
        ProcessKind(
            "worker",
            conf.CELERY_WORKERS,
            conf.CELERY_WORKER_CONCURRENCY + 1,
            "one per prefork child, plus the parent; dial threads hold none",
        ),
        ProcessKind("beat", 1, 1, "the database scheduler"),
    )
    return ConnectionBudget(
        kinds=kinds, max_connections=conf.DB_MAX_CONNECTIONS, reserved=conf.DB_RESERVED_CONNECTIONS
    )


@register()
def check_connection_budget(app_configs: Any = None, **kwargs: Any) -> list[CheckWarning]:
    budget = connection_budget()
    if budget.fits:
        return []
    detail = ", ".join(f"{k.name} {k.processes}x{k.per_process}" for k in budget.kinds)
    return [
        CheckWarning(
            f"The processes may hold {budget.needed} Postgres connections ({detail}), more than the "
            f"{budget.available} available (DB_MAX_CONNECTIONS {budget.max_connections} less "
            f"DB_RESERVED_CONNECTIONS {budget.reserved}).",
            hint="Lower WEB_WORKERS/WEB_THREADS or CELERY_WORKER_CONCURRENCY, raise Postgres's "
            "max_connections, or put PgBouncer in front (docs/SCALING.md, connection budget).",
            id="voiceops.W010",
        )
    ]
