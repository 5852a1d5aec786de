"""Redis (the broker) unreachable while webhooks keep arriving: all answered, all stored,
and once Redis is back the sweeper processes every stored event.

Real processes: gunicorn serves the webhooks, a celery worker (own queue, our Redis db)
runs the sweeper. Redis is "down" by routing the broker through a proxy that is closed;
the shared Redis itself is never touched.
"""

from __future__ import annotations

import uuid

import pytest
import requests
from celery import Celery

from calls.enums import EventState
from calls.models import Call, WebhookEvent
from tests.faults.lifecycle import INFORMATIONAL, URL, auth_headers, lifecycle_bodies
from tests.faults.proxy import TcpProxy
from tests.faults.servers import CeleryWorker, WebServer, child_env, wait_until

CALLS = 4


def publisher(broker_url: str) -> Celery:
    return Celery("fault-publisher", broker=broker_url, set_as_current=False)


@pytest.mark.django_db(transaction=True)
def test_webhooks_survive_a_dead_broker_and_the_sweeper_catches_up(fault_dir, private_redis_db):
    redis = TcpProxy(6379)  # reserved port, not listening yet: Redis is "down"
    broker_url = f"redis://127.0.0.1:{redis.port}/{private_redis_db}"
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    env = child_env(REDIS_URL=broker_url, FAULT_QUEUE=queue, VAPI_WEBHOOK_SWEEP_AFTER_SECONDS="0")
    web = WebServer(env, fault_dir / "web.log", workers=2)
    worker = None
    try:
        web.wait_ready()
        assert requests.get(f"{web.url}/readyz", timeout=10).status_code == 503

        sent, call_ids = 0, []
        for _ in range(CALLS):
            call_id, bodies = lifecycle_bodies(names=INFORMATIONAL)
            call_ids.append(call_id)
            for _, body in bodies:
                response = requests.post(
                    f"{web.url}{URL}",
                    data=body,
                    headers={**auth_headers(), "Content-Type": "application/json"},
                    timeout=10,
                )
                sent += 1
                assert response.status_code == 200, response.text
        stored = WebhookEvent.objects.filter(vapi_call_id__in=call_ids)
        waiting = stored.filter(state=EventState.RECEIVED).count()
        print(f"broker down: sent={sent} stored={stored.count()} waiting_for_processing={waiting}")
        assert stored.count() == sent  # every delivery is a distinct event here: all stored
        assert waiting > 0 and not Call.objects.filter(vapi_id__in=call_ids, status="ended").exists()

        redis.start()  # Redis is back
        worker = CeleryWorker(env, fault_dir / "worker.log", queue=queue)
        worker.wait_ready()
        publisher(broker_url).send_task("calls.sweep_webhook_events", queue=queue)
        wait_until(
            lambda: not stored.filter(state=EventState.RECEIVED).exists(),
            timeout=90,
            message=lambda: f"the sweeper to drain the backlog\n{worker.output()[-3000:]}",
        )
        processed = stored.filter(state=EventState.PROCESSED).count()
        print(f"broker back: sweeper processed={processed} of waiting={waiting}")
        assert processed == waiting
        assert not stored.filter(state=EventState.FAILED).exists()
        ended = Call.objects.filter(vapi_id__in=call_ids, status="ended", has_final_report=True).count()
        assert ended == CALLS
        assert requests.get(f"{web.url}/readyz", timeout=10).status_code == 200
    finally:
        if worker:
            worker.stop()
        web.stop()
        redis.stop()
