"""Simulator switches used by the chaos soak: a REST outage, and a caller who cancels what was booked."""

from __future__ import annotations

import pytest

from tools.speech import spelled_code
from voiceops.simulator.runner import running_simulator
from voiceops.simulator.scenarios import load_scenarios
from voiceops.simulator.tools import CONFIRMATION_CODE
from voiceops.vapi.client import VapiClient, VapiRateLimited, VapiServerError


@pytest.mark.parametrize(("status", "error"), [(429, VapiRateLimited), (503, VapiServerError)])
def test_an_api_outage_answers_every_rest_call_until_switched_off(status, error):
    with running_simulator(play_calls=False) as sim:
        client = VapiClient(base_url=sim.base_url, retries=0)  # the configured key, as Vapi requires
        assert client.phone_number_list() != []
        sim.api_outage = status
        with pytest.raises(error):
            client.phone_number_list()
        with pytest.raises(error):
            client.call_create(
                {"assistantId": "a", "phoneNumberId": "p", "customer": {"number": "+14155550100"}}
            )
        assert sim.store.list("calls") == []  # nothing was placed while Vapi refused
        sim.api_outage = None
        assert client.phone_number_list() != []


def test_the_confirmation_code_read_out_is_what_the_caller_cancels_with():
    result = f"Booked with Dr. Rivera on Monday. The confirmation code is {spelled_code('K7QX2M')}."
    match = CONFIRMATION_CODE.search(result)
    assert match is not None and match.group(1).replace(" ", "") == "K7QX2M"
    assert CONFIRMATION_CODE.search("That time is taken.") is None
    scenario = load_scenarios()["books-and-cancels"]
    tools = [turn["tool"] for turn in scenario.turns if "tool" in turn]
    assert tools == ["book_appointment", "cancel_appointment"]
    assert scenario.vars["confirmation_code"] == ""  # nothing to cancel when the booking failed
