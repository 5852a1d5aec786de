"""``manage.py webhook_worker``: process stored webhook events without Redis on the request path.

Used with ``VAPI_WEBHOOK_DISPATCH=notify``: the webhook's INSERT sends a Postgres NOTIFY,
this process LISTENs, and claims pending ledger rows in batches (SKIP LOCKED, so several
workers and the Celery sweeper can run together). A short poll interval covers a lost
notification or a worker restart; the sweeper still retries failures.
"""

from __future__ import annotations

import signal
import time
from typing import Any

import psycopg
import structlog
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection

from calls.services.events import NOTIFY_CHANNEL, NOTIFY_ENDED, webhook_events_process_pending

log = structlog.get_logger(__name__)


class Command(BaseCommand):
    help = "Process stored Vapi webhook events as they arrive (LISTEN/NOTIFY + SKIP LOCKED batches)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=200, help="Events claimed per batch.")
        parser.add_argument("--poll", type=float, default=1.0, help="Seconds between polls without a NOTIFY.")
        parser.add_argument("--max-seconds", type=float, default=0.0, help="Stop after this (0: never).")

    def handle(self, *args: Any, **options: Any) -> None:
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        try:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        except ValueError:
            pass  # not the main thread (tests): stopped by --max-seconds
        deadline = time.monotonic() + options["max_seconds"] if options["max_seconds"] else None
        log.info("webhook_worker.started", batch=options["batch"])
        listening = False
        while not stopping and (deadline is None or time.monotonic() < deadline):
            try:
                if not listening:
                    _listen()
                    listening = True
                processed = webhook_events_process_pending(
                    limit=options["batch"], stop=lambda: stopping, ended_arrived=_ended_arrived
                )
                if processed >= options["batch"]:
                    continue  # more may be waiting: do not sleep
                wait = options["poll"]
                if deadline is not None:
                    wait = max(0.0, min(wait, deadline - time.monotonic()))
                # Returns at the first notification (or the timeout); the rest are drained next round.
                for _ in connection.connection.notifies(timeout=wait, stop_after=1):
                    pass
            except (DatabaseError, psycopg.Error) as exc:
                # Postgres down or restarted: keep running (Procfile/compose would otherwise stop
                # with it), reconnect and LISTEN again; rows stored meanwhile wait for us.
                log.warning("webhook_worker.database_unavailable", error=type(exc).__name__)
                connection.close()
                listening = False
                time.sleep(1.0)
        log.info("webhook_worker.stopped")


def _ended_arrived() -> bool:
    """Whether a call's ended status was stored since the last look: reads the NOTIFYs received
    meanwhile without waiting. Each stands for a row committed before the batch's next look at
    the queue, so consuming them here loses no wake-up."""
    payloads = [notify.payload for notify in connection.connection.notifies(timeout=0)]
    return NOTIFY_ENDED in payloads


def _listen() -> None:
    connection.close_if_unusable_or_obsolete()
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")
