"""``campaign.predial``: Vapi asks before dialling each contact of a Vapi-run campaign (CONTRACT §4.11).

Vapi-run campaigns get voiceops's own gate: kill switch, do-not-call, consent (when
PREDIAL_REQUIRES_CONSENT), the calling window in the contact's local time, one live call per
customer and the per-customer cap across everything voiceops and Vapi dial. The answer is exactly
``{"eligible": true|false}`` (SDK ``ServerMessageResponseCampaignPredial``); anything else makes
Vapi record a pre-dial failure, so on any doubt the answer is ``false``. Every answer is stored as
a DispatchDecision, so "why was this number called at 08:05?" has one answer for both dialers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calls.campaigns.services.checks import (
    ALLOW,
    Verdict,
    check_calling_window,
    check_customer_caps,
    check_do_not_call,
    check_kill_switch,
    customer_try_lock,
    decision_record,
)
from calls.enums import DecisionRule
from calls.models import Campaign, CampaignRecipient, Customer, DispatchDecision
from calls.services.customers import customer_for_number
from calls.services.processors.calls import as_dict, as_text
from voiceops.logging import mask_number

log = structlog.get_logger(__name__)


def _window(*, customer: Customer, number: str, now: dt.datetime) -> Verdict:
    """The calling window (PREDIAL_WINDOW_START..END, the contact's local time) on unsaved rows."""
    window = Campaign(window_start=settings.PREDIAL_WINDOW_START, window_end=settings.PREDIAL_WINDOW_END)
    recipient = CampaignRecipient(number=number, customer=customer, time_zone=customer.time_zone or "")
    return check_calling_window(campaign=window, recipient=recipient, now=now)


def _predial_cap(*, customer: Customer, now: dt.datetime) -> Verdict:
    """Vapi's dials are not in our attempt ledger: count the predials we allowed in the window."""
    since = now - dt.timedelta(hours=settings.OUTBOUND_CUSTOMER_WINDOW_HOURS)
    allowed = DispatchDecision.objects.filter(
        customer=customer, allowed=True, detail__startswith="Vapi campaign", at__gte=since
    ).count()
    if allowed >= settings.OUTBOUND_CUSTOMER_MAX_ATTEMPTS:
        return Verdict(
            DecisionRule.CUSTOMER_CAP,
            False,
            f"{allowed} Vapi campaign dials in the last {settings.OUTBOUND_CUSTOMER_WINDOW_HOURS} h.",
        )
    return ALLOW


def campaign_predial_answer(*, message: dict[str, Any], now: dt.datetime | None = None) -> dict[str, bool]:
    """Decide one contact; always ``{"eligible": bool}``."""
    now = now or timezone.now()
    contact = as_dict(message.get("contact"))
    campaign_id = as_text(message.get("campaignId") or contact.get("campaignId"), max_length=80)
    contact_id = as_text(contact.get("id"), max_length=80)
    number = as_text(contact.get("number"), max_length=40)
    label = f"Vapi campaign {campaign_id or '?'} contact {contact_id or '?'}"
    with transaction.atomic():
        customer = customer_for_number(number=number, name=as_text(contact.get("name"), max_length=200))
        if customer is None:
            verdict = Verdict(DecisionRule.CONFIGURATION, False, f"{label}: no valid number to dial.")
            decision_record(verdict=verdict, at=now)
            log.info("campaign.predial", campaign_id=campaign_id, eligible=False, rule=verdict.rule)
            return {"eligible": False}
        verdict = check_kill_switch()
        if verdict.allowed:
            verdict = check_do_not_call(customer=customer)
        if verdict.allowed and settings.PREDIAL_REQUIRES_CONSENT and not customer.consent:
            verdict = Verdict(DecisionRule.CONSENT, False, "Consent is required and none is recorded.")
        if verdict.allowed:
            verdict = _window(customer=customer, number=customer.number.as_e164, now=now)
        if verdict.allowed and not customer_try_lock(customer_id=customer.pk):
            verdict = Verdict(
                DecisionRule.CUSTOMER_BUSY, False, "Another dial to this customer is being decided."
            )
        if verdict.allowed:
            verdict = check_customer_caps(customer=customer, now=now)
        if verdict.allowed:
            verdict = _predial_cap(customer=customer, now=now)
        detail = f"{label}: {verdict.detail}" if verdict.detail else f"{label}: all checks passed."
        decision_record(verdict=Verdict(verdict.rule, verdict.allowed, detail), at=now, customer=customer)
    log.info(
        "campaign.predial",
        campaign_id=campaign_id,
        contact=mask_number(number),
        eligible=verdict.allowed,
        rule=str(verdict.rule),
    )
    return {"eligible": bool(verdict.allowed)}
