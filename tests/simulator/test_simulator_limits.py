"""The simulator's org limits, as Vapi: 10 concurrent calls by default, over-limit calls refused
(``subscriptionLimits.concurrencyBlocked``, then the concurrency-limit ended reason), 429 with
Retry-After when POST /call is over the rate limit."""

from __future__ import annotations

import pytest

from voiceops.simulator.config import SimulatorConfig
from voiceops.simulator.runner import running_simulator
from voiceops.simulator.store import phone_number_id_for
from voiceops.vapi.client import VapiClient, VapiRateLimited

NUMBER = "+12125550100"


def _assistant(client: VapiClient) -> str:
    return client.request("POST", "/assistant", json={"name": "Limits"})["id"]


def _dial(client: VapiClient, assistant_id: str, n: int) -> dict:
    return client.call_create(
        {
            "assistantId": assistant_id,
            "phoneNumberId": phone_number_id_for(NUMBER),
            "customer": {"number": f"+1415555{n:04d}"},
        }
    )


def test_default_org_limit_is_ten_and_the_eleventh_call_is_blocked():
    assert SimulatorConfig().concurrency_limit == 10
    with running_simulator(play_calls=False, phone_numbers=[NUMBER]) as sim:
        client = VapiClient(base_url=sim.base_url, retries=0)  # the configured key (a wrong one gets 401)
        assistant_id = _assistant(client)
        answers = [_dial(client, assistant_id, n) for n in range(11)]
        assert [a["subscriptionLimits"]["concurrencyBlocked"] for a in answers] == [False] * 10 + [True]
        assert answers[9]["subscriptionLimits"]["remainingConcurrentCalls"] == 0
        assert answers[0]["subscriptionLimits"]["concurrencyLimit"] == 10
        assert sim.live_calls() == 10 and sim.peak_live == 10


def test_a_blocked_call_ends_with_the_concurrency_reason():
    with running_simulator(time_factor=500, phone_numbers=[NUMBER], concurrency_limit=1, seed=3) as sim:
        client = VapiClient(base_url=sim.base_url, retries=0)  # the configured key (a wrong one gets 401)
        assistant_id = _assistant(client)
        first, second = _dial(client, assistant_id, 1), _dial(client, assistant_id, 2)
        assert sim.wait_for_calls(timeout=30, call_ids=[second["id"]])
        ended = client.call_get(second["id"])
    assert second["subscriptionLimits"]["concurrencyBlocked"] is True
    assert ended["status"] == "ended"
    assert ended["endedReason"] == "call.start.error-subscription-concurrency-limit-reached"
    assert first["subscriptionLimits"]["concurrencyBlocked"] is False


def test_post_call_over_the_rate_limit_is_429_with_retry_after():
    with running_simulator(play_calls=False, phone_numbers=[NUMBER], call_rate_limit=2) as sim:
        client = VapiClient(base_url=sim.base_url, retries=0)  # the configured key (a wrong one gets 401)
        assistant_id = _assistant(client)
        _dial(client, assistant_id, 1)
        _dial(client, assistant_id, 2)
        with pytest.raises(VapiRateLimited) as info:
            _dial(client, assistant_id, 3)
    assert info.value.status == 429 and info.value.retry_after == 1.0
