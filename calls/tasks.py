"""Celery tasks of the calls domain: thin shells around services (STYLE §7).

They take ids, call one service, and own their retry policy: event processing is
retried by the sweeper (the failure is recorded on the ledger row), so none of these
tasks retries itself.
"""

from __future__ import annotations

from celery import shared_task

from calls.services.discovery import calls_discover
from calls.services.events import webhook_event_process, webhook_events_sweep
from calls.services.reconciliation import calls_reconcile


@shared_task(name="calls.process_webhook_event", ignore_result=True)
def process_webhook_event(event_id: int) -> None:
    webhook_event_process(event_id=event_id)


@shared_task(name="calls.sweep_webhook_events", ignore_result=True)
def sweep_webhook_events() -> None:
    webhook_events_sweep()


@shared_task(name="calls.reconcile_calls", ignore_result=True)
def reconcile_calls() -> None:
    """Complete the calls we know, then discover the ones no webhook ever recorded."""
    calls_reconcile()
    calls_discover()
