"""A Celery worker killed in the middle of processing an event: redelivered, applied once.

acks_late + reject_on_worker_lost: the message is acknowledged only after the task ran,
so a worker that dies mid-task leaves it in Redis; the processing transaction dies with
the worker's connection, so the redelivery starts from a clean row.
"""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path

import pytest
from celery import Celery

from calls.enums import EventState
from calls.models import Call, TranscriptTurn, WebhookEvent
from tests.faults.lifecycle import INFORMATIONAL, URL, auth_headers, lifecycle_bodies
from tests.faults.servers import CeleryWorker, child_env, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def store_lifecycle(client, settings) -> tuple[str, list[int]]:
    """Store one call's events through the webhook without publishing them."""
    settings.VAPI_WEBHOOK_DISPATCH = "notify"  # store only: this test publishes the tasks itself
    call_id, bodies = lifecycle_bodies(names=INFORMATIONAL)
    for _, body in bodies:
        response = client.post(URL, data=body, content_type="application/json", headers=auth_headers())
        assert response.status_code == 200
    ids = list(
        WebhookEvent.objects.filter(vapi_call_id=call_id, state=EventState.RECEIVED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return call_id, ids


def publish(broker_url: str, queue: str, event_ids: list[int]) -> None:
    app = Celery("fault-publisher", broker=broker_url, set_as_current=False)
    for event_id in event_ids:
        app.send_task("calls.process_webhook_event", args=[event_id], queue=queue)


def marker_pids(marker: Path) -> list[int]:
    return [int(line.split()[0]) for line in marker.read_text().splitlines()] if marker.exists() else []


@pytest.mark.parametrize("kill", ["pool-process", "whole-worker"])
def test_event_processing_survives_a_killed_worker(client, settings, fault_dir, private_redis_db, kill):
    call_id, event_ids = store_lifecycle(client, settings)
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    broker_url = f"redis://127.0.0.1:6379/{private_redis_db}"
    marker = fault_dir / "processing.marker"
    env = child_env(
        REDIS_URL=broker_url,
        FAULT_QUEUE=queue,
        FAULT_SLOW_PROCESS_MARKER=str(marker),
        FAULT_SLOW_SECONDS="60",
        FAULT_VISIBILITY_TIMEOUT="3",
        VAPI_WEBHOOK_SWEEP_AFTER_SECONDS="0",
    )
    worker = CeleryWorker(env, fault_dir / "worker-1.log", queue=queue)
    second = None
    try:
        worker.wait_ready()
        publish(broker_url, queue, event_ids)
        wait_until(marker.exists, timeout=60, message=lambda: f"a task to start\n{worker.output()[-2000:]}")
        (victim,) = marker_pids(marker)
        if kill == "pool-process":
            os.kill(victim, signal.SIGKILL)  # e.g. the OOM killer; the worker main process survives
        else:
            worker.kill(signal.SIGKILL)  # the whole worker: main process and pool
            second = CeleryWorker(env, fault_dir / "worker-2.log", queue=queue)
            second.wait_ready()
            # The killed worker's unacknowledged message only comes back after Redis'
            # visibility timeout; the sweeper (beat, every minute) is the designed safety net.
            Celery("fault-publisher", broker=broker_url, set_as_current=False).send_task(
                "calls.sweep_webhook_events", queue=queue
            )
        events = WebhookEvent.objects.filter(pk__in=event_ids)
        wait_until(
            lambda: not events.filter(state=EventState.RECEIVED).exists(),
            timeout=90,
            message=lambda: (
                f"redelivery\n{worker.output()[-3000:]}\n---\n{(second or worker).output()[-3000:]}"
            ),
        )
        states = sorted(events.values_list("state", "attempts"))
        print(f"kill={kill}: sent={len(event_ids)} processed={events.filter(state='processed').count()}")
        assert states == [(EventState.PROCESSED, 1)] * len(event_ids)  # every event, applied once
        call = Call.objects.get(vapi_id=call_id)
        assert call.status == "ended" and call.has_final_report
        positions = list(TranscriptTurn.objects.filter(call=call).values_list("position", flat=True))
        assert len(positions) == len(set(positions)) > 0
    finally:
        worker.stop()
        if second:
            second.stop()
