"""A worker killed between a campaign call's end and its campaign effects: nothing stalls.

The event's transaction has committed the call's end; the worker dies in the after-commit hook
that would apply the outcome to the recipient. The org's slot comes back at once (the budget
counts a call that ended as free), and the beat tick's sweeper applies the outcome, so the
recipient reaches a final state and the customer can be dialled by other campaigns again.
"""

from __future__ import annotations

import datetime as dt
import signal
import uuid

import pytest
import responses
from celery import Celery

from calls.campaigns.services.budget import outbound_in_use
from calls.campaigns.services.dispatch import campaign_dispatch_due
from calls.enums import AttemptState, CallStatus, EventState, RecipientState
from calls.models import Call, DialAttempt, WebhookEvent
from tests.calls.campaign_support import FakeVapi, add_recipient, make_campaign
from tests.faults.lifecycle import URL, auth_headers, lifecycle_bodies
from tests.faults.servers import CeleryWorker, child_env, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_killed_between_call_end_and_effects_slot_returns_and_outcome_applied(
    client, settings, fault_dir, private_redis_db
):
    campaign = make_campaign(window_start=dt.time(0, 0), window_end=dt.time(23, 59, 59))
    recipient = add_recipient(campaign, time_zone="UTC")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeVapi(rsps)
        campaign_dispatch_due(campaign=campaign)
    attempt = DialAttempt.objects.get(recipient=recipient)
    assert attempt.state == AttemptState.ACCEPTED and outbound_in_use() == 1

    settings.VAPI_WEBHOOK_DISPATCH = "notify"  # store only: the test publishes the tasks itself
    _, bodies = lifecycle_bodies(
        call_id=attempt.vapi_call_id, names=("status-update-in-progress.json", "status-update-ended.json")
    )
    for _, body in bodies:
        response = client.post(URL, data=body, content_type="application/json", headers=auth_headers())
        assert response.status_code == 200
    event_ids = list(
        WebhookEvent.objects.filter(vapi_call_id=attempt.vapi_call_id)
        .order_by("id")
        .values_list("id", flat=True)
    )
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    broker_url = f"redis://127.0.0.1:6379/{private_redis_db}"
    marker = fault_dir / "ended.marker"
    env = child_env(
        REDIS_URL=broker_url,
        FAULT_QUEUE=queue,
        FAULT_SLOW_ENDED_MARKER=str(marker),
        FAULT_SLOW_SECONDS="60",
        OUTBOUND_STALL_REPAIR_SECONDS="0",
        VAPI_WEBHOOK_SWEEP_AFTER_SECONDS="3600",  # only the stall sweeper may repair this
    )
    publisher = Celery("fault-publisher", broker=broker_url, set_as_current=False)
    worker = CeleryWorker(env, fault_dir / "worker-1.log", queue=queue)
    second = None
    try:
        worker.wait_ready()
        for event_id in event_ids:
            publisher.send_task("calls.process_webhook_event", args=[event_id], queue=queue)
        wait_until(marker.exists, timeout=60, message=lambda: worker.output()[-3000:])
        worker.kill(signal.SIGKILL)  # the call's end is committed; its effects never ran

        call = Call.objects.get(vapi_id=attempt.vapi_call_id)
        assert call.status == CallStatus.ENDED
        attempt.refresh_from_db()
        recipient.refresh_from_db()
        assert attempt.state == AttemptState.ACCEPTED and recipient.state == RecipientState.IN_CALL
        assert outbound_in_use() == 0  # the slot is back at once: Vapi's call has ended

        second = CeleryWorker(env, fault_dir / "worker-2.log", queue=queue)
        second.wait_ready()

        def repaired() -> bool:
            publisher.send_task("calls.campaigns_tick", queue=queue)
            recipient.refresh_from_db()
            return recipient.state not in (RecipientState.IN_CALL, RecipientState.DIALING)

        wait_until(repaired, timeout=60, interval=2, message=lambda: second.output()[-3000:])
    finally:
        worker.stop()
        if second is not None:
            second.stop()
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.ENDED and attempt.outcome == "completed"
    assert recipient.state == RecipientState.DONE and recipient.attempts == 1
    assert WebhookEvent.objects.filter(pk__in=event_ids, state=EventState.PROCESSED).count() == 2
