"""The beat tick and the dispatch task (Celery eager in tests)."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
import time_machine
from django.conf import settings

from calls.campaigns.services.control import campaign_start
from calls.campaigns.tasks import campaign_dispatch, campaigns_tick
from calls.enums import AttemptState, CampaignState, RecipientState
from calls.models import DialAttempt
from tests.calls.campaign_support import FakeVapi, add_recipient, make_campaign
from voiceops.celery import app

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)


@pytest.fixture
def vapi():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeVapi(rsps)


def test_beat_schedule_ticks_campaigns_every_few_seconds():
    entry = settings.CELERY_BEAT_SCHEDULE["campaigns-tick"]
    assert entry["task"] == "calls.campaigns_tick" and entry["schedule"] <= 5
    app.loader.import_default_modules()
    assert {"calls.campaigns_tick", "calls.campaign_dispatch"} <= set(app.tasks)


def test_tick_dispatches_running_campaigns_only_and_recovers_stale_attempts(vapi):
    running = make_campaign()
    add_recipient(running)
    paused = make_campaign(state=CampaignState.PAUSED)
    add_recipient(paused)
    stale_campaign = make_campaign(state=CampaignState.PAUSED)
    stale = add_recipient(stale_campaign)
    stale.state = RecipientState.DIALING
    stale.save()
    with time_machine.travel(NOON - dt.timedelta(minutes=5), tick=False):
        old = DialAttempt.objects.create(
            idempotency_key="k-stale",
            campaign=stale_campaign,
            recipient=stale,
            customer=stale.customer,
            number=str(stale.number),
        )
    with time_machine.travel(NOON, tick=False):
        campaigns_tick.delay()
    assert [p["customer"]["number"] for p in vapi.payloads] == [str(running.recipients.get().number)]
    old.refresh_from_db()
    stale.refresh_from_db()
    assert old.state == AttemptState.ABANDONED and stale.state == RecipientState.PENDING


def test_dispatch_task_ignores_a_deleted_campaign(vapi):
    campaign_dispatch.delay(987654)
    assert vapi.payloads == []


def test_start_enqueues_a_dispatch_on_commit(vapi, django_capture_on_commit_callbacks):
    campaign = make_campaign(state=CampaignState.DRAFT)
    add_recipient(campaign)
    with time_machine.travel(NOON, tick=False), django_capture_on_commit_callbacks(execute=True):
        campaign_start(campaign=campaign, by="ana")
    assert len(vapi.payloads) == 1
