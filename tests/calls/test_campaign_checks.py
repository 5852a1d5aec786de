"""Every stored dispatch decision is also counted for Prometheus, by the rule that decided it."""

from __future__ import annotations

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from calls.campaigns.services.checks import Verdict, decision_record
from calls.enums import DecisionRule
from calls.models import DispatchDecision
from tests.calls.campaign_support import add_recipient, make_campaign

pytestmark = pytest.mark.django_db


def test_a_recorded_decision_is_stored_and_counted_by_rule():
    campaign = make_campaign()
    recipient = add_recipient(campaign)
    labels = {"rule": str(DecisionRule.DO_NOT_CALL)}
    before = REGISTRY.get_sample_value("voiceops_dispatch_decisions_total", labels) or 0
    decision_record(
        verdict=Verdict(DecisionRule.DO_NOT_CALL, False, "on the do-not-call list"),
        at=timezone.now(),
        campaign=campaign,
        recipient=recipient,
        customer=recipient.customer,
    )
    stored = DispatchDecision.objects.get(recipient=recipient)
    assert stored.rule == DecisionRule.DO_NOT_CALL and not stored.allowed
    assert REGISTRY.get_sample_value("voiceops_dispatch_decisions_total", labels) == before + 1
