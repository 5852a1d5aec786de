"""End to end: a 500-recipient campaign with cap 10 runs to completion against the simulator.

voiceops runs as a live server (webhooks processed eagerly on commit, as in the other tests),
the simulator places every call the dispatcher creates and plays it back through
``POST /webhooks/vapi/``; the end hook refills each freed slot, and a "beat" loop here ticks
``campaigns_tick`` once a second as django-celery-beat would. The simulator's own org
concurrency limit is set to the campaign cap, so a dispatcher that overshot would see calls
fail with Vapi's concurrency ended reason — the test checks that never happens.
The assistant subscribes to end-of-call reports only (one webhook per call) to keep the
run near a minute on a shared 2-core machine; the report alone ends the call.
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistants.models import Assistant, PhoneNumber
from assistants.services import assistant_push
from calls.campaigns.selectors import campaign_progress
from calls.campaigns.services.control import campaign_start
from calls.campaigns.tasks import campaigns_tick
from calls.enums import AttemptState, CampaignState, RecipientState
from calls.models import Call, Campaign, CampaignRecipient, Customer, DialAttempt
from voiceops.simulator.runner import running_simulator
from voiceops.simulator.scenarios import SCENARIO_DIR
from voiceops.simulator.store import phone_number_id_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SECRET = "e2e-campaign-secret-5d1e"
NUMBER = "+12125550100"
CAP = 10
RECIPIENTS = 500


@pytest.fixture
def quick_mix(tmp_path: Path) -> str:
    """The simulator's default outcome mix, with answered calls played by the short hang-up caller."""
    mix = yaml.safe_load((SCENARIO_DIR / "mix-default.yaml").read_text())
    mix["callers"] = {"hangs-up": 1}
    path = tmp_path / "mix-campaign.yaml"
    path.write_text(yaml.safe_dump(mix))
    return str(path)


def test_campaign_of_500_with_cap_10_completes_with_the_simulators_outcome_mix(
    live_server: Any, settings: Any, quick_mix: str
) -> None:
    settings.PUBLIC_BASE_URL = live_server.url
    settings.VAPI_WEBHOOK_SECRET = [SECRET]
    settings.VAPI_RETRIES = 0
    settings.VAPI_CONCURRENCY_LIMIT = CAP
    settings.OUTBOUND_INBOUND_RESERVE = 0  # no inbound traffic here: the whole org is the campaign's
    with running_simulator(
        time_factor=1000, seed=6, phone_numbers=[NUMBER], mix=quick_mix, concurrency_limit=CAP, secret=SECRET
    ) as sim:
        settings.VAPI_BASE_URL = sim.base_url
        assistant = Assistant.objects.create(
            name="E2E campaign",
            first_message="Hi {{name}}, a quick reminder.",
            system_prompt="Remind.",
            server_messages=["end-of-call-report"],
        )
        phone = PhoneNumber.objects.create(
            number=NUMBER, vapi_id=phone_number_id_for(NUMBER), provider="vapi"
        )
        assistant_push(assistant=assistant)
        assistant.refresh_from_db()
        campaign = Campaign.objects.create(
            name="E2E reminders",
            assistant=assistant,
            phone_number=phone,
            max_concurrent_calls=CAP,
            max_calls_per_minute=10_000,
            max_attempts=2,
            reached_min_seconds=0,  # the short hang-up caller counts as reached here
            window_start=dt.time(0, 0),
            window_end=dt.time(23, 59, 59),
            retry_policy={g: {"retry": True, "delay_minutes": 0} for g in ("busy", "no-answer", "voicemail")}
            | {"failed": {"retry": False, "delay_minutes": 0}},
        )
        customers = Customer.objects.bulk_create(
            [Customer(number=f"+1202555{i:04d}", name=f"R{i}", time_zone="UTC") for i in range(RECIPIENTS)]
        )
        CampaignRecipient.objects.bulk_create(
            [
                CampaignRecipient(
                    campaign=campaign,
                    customer=c,
                    number=c.number,
                    name=c.name,
                    time_zone="UTC",
                    variables={"name": c.name},
                )
                for c in customers
            ]
        )

        live_at_vapi: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.02):
                live_at_vapi.append(sim.store.active_call_count())

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.monotonic()
        campaign_start(campaign=campaign, by="e2e")
        try:
            while time.monotonic() - started < 150:
                campaign.refresh_from_db()
                if campaign.state == CampaignState.COMPLETED:
                    break
                campaigns_tick()  # the beat
                time.sleep(0.5)
        finally:
            stop.set()
            sampler.join()
        elapsed = time.monotonic() - started
        assert sim.wait_for_calls(timeout=30)

    campaign.refresh_from_db()
    progress = campaign_progress(campaign=campaign)
    print(f"campaign e2e: {RECIPIENTS} recipients, cap {CAP}: completed in {elapsed:.1f} s; {progress}")
    assert campaign.state == CampaignState.COMPLETED, (elapsed, progress)
    states = progress["recipient_states"]
    assert (
        states[RecipientState.DONE] + states[RecipientState.FAILED] + states[RecipientState.BLOCKED]
        == RECIPIENTS
    )

    # The simulator's mix (answered 70, busy 8, no-answer 10, voicemail 7, failed 5) shows in our outcomes.
    mix = progress["outcome_mix"]
    # (the simulator's "failed" reasons include sip-outbound-unallocated-number: invalid-number for us)
    assert (
        {"completed", "busy", "no-answer", "voicemail"}
        <= set(mix)
        <= {"completed", "busy", "no-answer", "voicemail", "failed", "invalid-number"}
    ), mix
    ended = sum(mix.values())
    assert 0.62 <= mix["completed"] / ended <= 0.78, mix
    assert states[RecipientState.DONE] == mix["completed"]

    # Never over the cap, at Vapi or in our own books; never two dials for one attempt.
    assert max(live_at_vapi) <= CAP
    assert not Call.objects.filter(ended_reason__contains="concurrency").exists()
    attempts = DialAttempt.objects.filter(campaign=campaign)
    assert attempts.exclude(state__in=[AttemptState.ENDED]).count() == 0, collections.Counter(
        attempts.values_list("state", flat=True)
    )
    assert len(sim.store.list("calls")) == attempts.count()
    per_recipient = collections.Counter(attempts.values_list("recipient_id", flat=True))
    assert max(per_recipient.values()) <= 2
    assert Call.objects.filter(campaign=campaign, has_final_report=True).count() == attempts.count()
