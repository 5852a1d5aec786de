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
        env = child_env(REDIS_URL=broker_url, FAULT_QUEUE=queue, VAPI_BASE_URL=vapi.url, VAPI_RETRIES="0")
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
            # The redelivered dispatch, and a later tick's dispatch, dial the rest.
            wait_until(
                lambda: len(vapi.dials()) >= RECIPIENTS - 1,
                timeout=90,
                message=lambda: worker.output()[-3000:],
            )
            publisher.send_task("calls.campaign_dispatch", args=[campaign.pk], queue=queue)
            wait_until(
                lambda: (
                    worker.output().count("calls.campaign_dispatch[")
                    and len(
                        [
                            x
                            for x in worker.output().splitlines()
                            if "campaign_dispatch[" in x and "succeeded" in x
                        ]
                    )
                    >= 2
                ),
                timeout=60,
                message=lambda: worker.output()[-3000:],
            )
            dialed = Counter(d["body"]["customer"]["number"] for d in vapi.dials())
            total = sum(dialed.values())
            print(f"dispatch kill: recipients={RECIPIENTS} dials={total} per number={dict(dialed)}")
            assert max(dialed.values()) == 1, dialed  # nobody dialed twice
            assert set(dialed) <= set(numbers)
            assert len(dialed) >= RECIPIENTS - 1  # everyone else was dialed after the crash
        finally:
            worker.stop()
