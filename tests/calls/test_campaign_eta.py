"""The estimated finish counts the retries already scheduled: it cannot be before the last one."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from calls.campaigns.selectors import campaign_progress
from calls.enums import RecipientState
from tests.factories import CampaignFactory, CampaignRecipientFactory, DialAttemptFactory

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


def test_finish_is_not_before_the_last_scheduled_retry():
    with time_machine.travel(NOON, tick=False):
        campaign = CampaignFactory()
        for _ in range(3):
            CampaignRecipientFactory(campaign=campaign, state=RecipientState.DONE)
        CampaignRecipientFactory(
            campaign=campaign, state=RecipientState.RETRY, next_attempt_at=NOON + dt.timedelta(hours=1)
        )
        DialAttemptFactory(campaign=campaign)
    with time_machine.travel(NOON + dt.timedelta(minutes=1), tick=False):
        progress = campaign_progress(campaign=campaign)
    # The recent pace alone would say seconds; the retry is due 59 minutes from now.
    assert progress["eta_seconds"] == 59 * 60
    assert progress["eta_at"] == (NOON + dt.timedelta(hours=1)).isoformat()
    assert progress["retries_waiting"] == 1
    # The estimate is a fixed time: it does not slide forward as the clock moves.
    with time_machine.travel(NOON + dt.timedelta(minutes=30), tick=False):
        later = campaign_progress(campaign=campaign)
    assert later["eta_at"] == progress["eta_at"]
