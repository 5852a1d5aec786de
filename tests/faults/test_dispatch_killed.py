"""A Celery worker killed in the middle of a campaign dispatch: no recipient is dialed twice.

The worst moment is chosen: Vapi has received ``POST /call`` (the call may be placed) and is
still answering when the worker dies. The task is redelivered (acks late, reject on worker
lost) and dispatches again; the dial ledger must keep that recipient from a second dial while
the others are dialed once each. Vapi is a real HTTP fake so the worker subprocess can reach it.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
import uuid
from collections import Counter

import pytest
from celery import Celery

from tests.calls.campaign_support import add_recipient, make_campaign
from tests.faults.fake_vapi import FakeVapi
from tests.faults.servers import CeleryWorker, child_env, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
RECIPIENTS = 4


def test_worker_killed_mid_dial_never_dials_a_recipient_twice(fault_dir, private_redis_db):
    campaign = make_campaign(
        window_start=dt.time(0, 0), window_end=dt.time(23, 59, 59), max_concurrent_calls=RECIPIENTS
    )
    numbers = [str(add_recipient(campaign, time_zone="UTC").number) for _ in range(RECIPIENTS)]
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    broker_url = f"redis://127.0.0.1:6379/{private_redis_db}"
    with FakeVapi() as vapi:
        env = child_env(
            REDIS_URL=broker_url,
            FAULT_QUEUE=queue,
            VAPI_BASE_URL=vapi.url,
            VAPI_RETRIES="0",
            OUTBOUND_RESERVED_STALE_SECONDS="1",
            OUTBOUND_REQUESTING_STALE_SECONDS="1",
        )
        worker = CeleryWorker(env, fault_dir / "worker.log", queue=queue)
        try:
            worker.wait_ready()
            vapi.hold.set()  # the first dial reaches Vapi, which does not answer yet
            publisher = Celery("fault-publisher", broker=broker_url, set_as_current=False)
            publisher.send_task("calls.campaign_dispatch", args=[campaign.pk], queue=queue)
            wait_until(vapi.holding.is_set, timeout=60, message=lambda: worker.output()[-3000:])
            (child,) = worker.child_pids()
            os.kill(child, signal.SIGKILL)  # dies while Vapi may already be placing the call
            vapi.hold.clear()
            vapi.release.set()

            # The redelivered dispatch finds every slot taken by the dead run's attempts; the beat
            # tick's recovery abandons the never-sent ones (redialed) and reconciles the one Vapi
            # received against Vapi's call list (found: not redialed).
            def all_dialed() -> bool:
                publisher.send_task("calls.campaigns_tick", queue=queue)
                return len({d["body"]["customer"]["number"] for d in vapi.dials()}) >= RECIPIENTS

            wait_until(all_dialed, timeout=120, interval=3, message=lambda: worker.output()[-3000:])
            time.sleep(3)  # a few more ticks: nothing may be dialed again
            for _ in range(2):
                publisher.send_task("calls.campaigns_tick", queue=queue)
            time.sleep(3)
            dialed = Counter(d["body"]["customer"]["number"] for d in vapi.dials())
            total = sum(dialed.values())
            print(f"dispatch kill: recipients={RECIPIENTS} dials={total} per number={dict(dialed)}")
            assert max(dialed.values()) == 1, dialed  # nobody dialed twice
            assert set(dialed) <= set(numbers)
            assert set(dialed) == set(numbers)  # everyone was dialed, exactly once
        finally:
            worker.stop()
