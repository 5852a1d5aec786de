"""campaign.predial: Vapi-run campaigns go through voiceops's own gate; the answer is {"eligible": bool}."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from vapi.types import ServerMessageResponseCampaignPredial

from calls.campaigns.services.control import outbound_kill_switch_set
from calls.enums import DecisionRule
from calls.models import Customer, DispatchDecision, WebhookEvent
from tests.calls.conftest import post
from voiceops.simulator.runner import running_simulator

pytestmark = pytest.mark.django_db
NOON_NY = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)  # 12:00 in New York
NIGHT_NY = dt.datetime(2026, 11, 26, 4, 0, tzinfo=dt.UTC)  # 23:00 in New York


def predial(number: str = "+12125550142", **contact: Any) -> dict[str, Any]:
    """The SDK's ServerMessageCampaignPredial: campaignId and a CampaignContact."""
    return {
        "message": {
            "type": "campaign.predial",
            "timestamp": 1764090000000,
            "campaignId": "camp-7",
            "contact": {
                "id": "contact-1",
                "campaignId": "camp-7",
                "orgId": "org-1",
                "number": number,
                "name": "Dana",
                "createdAt": "2026-11-25T16:00:00.000Z",
                **contact,
            },
        }
    }


def answer(client, payload) -> dict[str, Any]:
    response = post(client, payload)
    assert response.status_code == 200
    body = response.json()
    ServerMessageResponseCampaignPredial.model_validate(body)
    assert set(body) == {"eligible"} and isinstance(body["eligible"], bool)
    return body


def test_an_eligible_contact_is_allowed_and_the_decision_stored(client):
    with time_machine.travel(NOON_NY, tick=False):
        assert answer(client, predial()) == {"eligible": True}
    decision = DispatchDecision.objects.get()
    assert decision.allowed and decision.rule == DecisionRule.ALLOWED
    assert decision.customer == Customer.objects.get(number="+12125550142")
    assert decision.detail.startswith("Vapi campaign camp-7 contact contact-1")
    event = WebhookEvent.objects.get(message_type="campaign.predial")
    assert event.response == {"eligible": True}


@pytest.mark.parametrize(
    ("setup", "at", "rule"),
    [
        ("do-not-call", NOON_NY, DecisionRule.DO_NOT_CALL),
        ("kill-switch", NOON_NY, DecisionRule.KILL_SWITCH),
        ("", NIGHT_NY, DecisionRule.CALLING_WINDOW),
        ("consent", NOON_NY, DecisionRule.CONSENT),
    ],
)
def test_the_gate_refuses(client, settings, setup, at, rule):
    if setup == "do-not-call":
        Customer.objects.create(
            number="+12125550142",
            do_not_call=True,
            do_not_call_reason="asked",
            do_not_call_at=at,
            time_zone="America/New_York",
        )
    if setup == "kill-switch":
        outbound_kill_switch_set(paused=True, by="ops")
    if setup == "consent":
        settings.PREDIAL_REQUIRES_CONSENT = True
    with time_machine.travel(at, tick=False):
        assert answer(client, predial()) == {"eligible": False}
    decision = DispatchDecision.objects.filter(customer__number="+12125550142").latest("id")
    assert (decision.allowed, decision.rule) == (False, rule)


def test_the_per_customer_cap_counts_vapi_dials(client, settings):
    settings.OUTBOUND_CUSTOMER_MAX_ATTEMPTS = 2
    with time_machine.travel(NOON_NY, tick=False):
        results = [answer(client, predial(id=f"contact-{i}"))["eligible"] for i in range(3)]
    assert results == [True, True, False]


@pytest.mark.parametrize("number", ["", "not-a-number", None])
def test_a_bad_contact_is_not_dialled_and_never_a_500(client, number):
    payload = predial()
    payload["message"]["contact"]["number"] = number
    assert answer(client, payload) == {"eligible": False}


def test_the_simulator_plays_campaign_predial_against_voiceops(live_server, settings):
    settings.VAPI_WEBHOOK_SECRET = ["predial-secret"]
    with running_simulator(
        play_calls=False, server_url=f"{live_server.url}/webhooks/vapi/", secret="predial-secret"
    ) as sim:
        eligible = sim.campaign_predial(campaign_id="camp-9", contact={"number": "+12125550142"})
        Customer.objects.filter(number="+12125550142").update(do_not_call=True, do_not_call_at=timezone.now())
        refused = sim.campaign_predial(campaign_id="camp-9", contact={"number": "+12125550142"})
    # The live server runs at the real now: the window may be closed, so only compare shapes
    # and the stored decisions (the gate's rules are fixed-clock tested above).
    assert set(eligible) == {"eligible"} and refused == {"eligible": False}
    rules = list(DispatchDecision.objects.order_by("id").values_list("rule", flat=True))
    assert len(rules) == 2 and rules[-1] == DecisionRule.DO_NOT_CALL
