"""Two campaigns and inbound callers against the simulator at Vapi's default org limit of 10.

voiceops keeps its outbound calls inside the org's budget (10 less an inbound reserve of 2), so
Vapi never has to refuse a call for concurrency, while the simulator's rate limit answers some
POST /call with 429: none of those uses up an attempt, and every recipient ends final.
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
from calls.campaigns.services.control import campaign_start
from calls.campaigns.tasks import campaigns_tick
from calls.enums import DIALED_ATTEMPT_STATES, AttemptState, CampaignState, Direction, RecipientState
from calls.models import Call, Campaign, CampaignRecipient, Customer, DialAttempt
from voiceops.simulator.runner import running_simulator
from voiceops.simulator.scenarios import SCENARIO_DIR
from voiceops.simulator.store import phone_number_id_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SECRET = "e2e-org-limit-secret-91c2"
NUMBER = "+12125550100"
ORG_LIMIT = 10
RESERVE = 2
PER_CAMPAIGN = 40


@pytest.fixture
def quick_mix(tmp_path: Path) -> str:
    mix = yaml.safe_load((SCENARIO_DIR / "mix-default.yaml").read_text())
    mix["callers"] = {"hangs-up": 1}
    path = tmp_path / "mix-org.yaml"
    path.write_text(yaml.safe_dump(mix))
    return str(path)


def _campaign(name: str, assistant: Assistant, phone: PhoneNumber, offset: int) -> Campaign:
    campaign = Campaign.objects.create(
        name=name,
        assistant=assistant,
        phone_number=phone,
        max_concurrent_calls=7,  # two campaigns of 7 would overrun 10 without the org budget
        max_calls_per_minute=10_000,
        max_attempts=2,
        reached_min_seconds=0,
        window_start=dt.time(0, 0),
        window_end=dt.time(23, 59, 59),
        retry_policy={g: {"retry": True, "delay_minutes": 0} for g in ("busy", "no-answer", "voicemail")}
        | {
            "failed": {"retry": False, "delay_minutes": 0},
            "not-reached": {"retry": False, "delay_minutes": 0},
        },
    )
    customers = Customer.objects.bulk_create(
        [
            Customer(number=f"+1202555{offset + i:04d}", name=f"R{i}", time_zone="UTC")
            for i in range(PER_CAMPAIGN)
        ]
    )
    CampaignRecipient.objects.bulk_create(
        [
            CampaignRecipient(campaign=campaign, customer=c, number=c.number, name=c.name, time_zone="UTC")
            for c in customers
        ]
    )
    return campaign


def test_two_campaigns_and_inbound_stay_inside_the_org_limit(live_server: Any, settings: Any, quick_mix: str):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.VAPI_WEBHOOK_SECRET = [SECRET]
    settings.VAPI_RETRIES = 0
    settings.VAPI_CONCURRENCY_LIMIT = ORG_LIMIT
    settings.OUTBOUND_INBOUND_RESERVE = RESERVE
    settings.OUTBOUND_REFUSAL_BACKOFF_SECONDS = 0.2
    settings.OUTBOUND_REPORT_GRACE_SECONDS = 0
    settings.OUTBOUND_STALL_REPAIR_SECONDS = 1
    with running_simulator(
        time_factor=1000, seed=8, phone_numbers=[NUMBER], mix=quick_mix, secret=SECRET, call_rate_limit=4
    ) as sim:
        assert sim.config.concurrency_limit == ORG_LIMIT  # Vapi's default, not set by this test
        settings.VAPI_BASE_URL = sim.base_url
        assistant = Assistant.objects.create(
            name="Org limit e2e",
            first_message="Hi, a quick reminder.",
            system_prompt="Remind.",
            server_messages=["status-update", "end-of-call-report"],
        )
        phone = PhoneNumber.objects.create(
            number=NUMBER, vapi_id=phone_number_id_for(NUMBER), provider="vapi"
        )
        assistant_push(assistant=assistant)
        assistant.refresh_from_db()
        sim.store.update("phone_numbers", phone.vapi_id, {"assistantId": assistant.vapi_id})  # fixed number
        campaigns = [_campaign("A", assistant, phone, 0), _campaign("B", assistant, phone, 1000)]

        live: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.02):
                live.append(sim.live_calls())

        def inbound() -> None:  # callers keep at most the reserve busy
            n = 0
            while not stop.wait(0.05):
                callers = [p for p in sim.all_players() if p.snapshot().get("type") == "inboundPhoneCall"]
                if sum(not p.done.is_set() for p in callers) < RESERVE:
                    sim.simulate_inbound(from_number=f"+1312555{n % 10000:04d}", to_number=NUMBER)
                    n += 1

        threads = [threading.Thread(target=sample), threading.Thread(target=inbound)]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        for campaign in campaigns:
            campaign_start(campaign=campaign, by="e2e")
        try:
            while time.monotonic() - started < 150:
                states = set(
                    Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).values_list("state", flat=True)
                )
                if states == {CampaignState.COMPLETED}:
                    break
                campaigns_tick()
                time.sleep(0.3)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        elapsed = time.monotonic() - started
        assert sim.wait_for_calls(timeout=30)
        refused_at_vapi = len(sim.blocked)

    attempts = DialAttempt.objects.filter(campaign__in=campaigns)
    by_state = collections.Counter(attempts.values_list("state", flat=True))
    print(
        f"org limit e2e: {elapsed:.1f} s, peak live at Vapi {max(live)} of {ORG_LIMIT}, "
        f"attempts {dict(by_state)}, inbound calls {Call.objects.filter(direction=Direction.INBOUND).count()}"
    )
    assert {c.state for c in Campaign.objects.filter(pk__in=[c.pk for c in campaigns])} == {
        CampaignState.COMPLETED
    }
    # Never over the org limit, and never so close that Vapi had to refuse a call.
    assert max(live) <= ORG_LIMIT and sim.peak_live <= ORG_LIMIT
    assert refused_at_vapi == 0
    assert Call.objects.filter(direction=Direction.INBOUND).count() > 0
    # The 429s happened and used up no attempt: a recipient's count is its dials that left.
    assert by_state[AttemptState.REFUSED] > 0
    for recipient in CampaignRecipient.objects.filter(campaign__in=campaigns):
        dialled = attempts.filter(recipient=recipient, state__in=DIALED_ATTEMPT_STATES).count()
        assert recipient.attempts == dialled <= 2
        assert recipient.state in (RecipientState.DONE, RecipientState.FAILED)
