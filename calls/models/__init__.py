"""Calls domain models, split by sub-domain."""

from calls.models.calls import Call, TranscriptTurn
from calls.models.campaigns import Campaign, CampaignRecipient
from calls.models.customers import Customer
from calls.models.events import WebhookEvent
from calls.models.outbound import DialAttempt, DispatchDecision, OutboundBudget, OutboundSwitch

__all__ = [
    "Call",
    "Campaign",
    "CampaignRecipient",
    "Customer",
    "DialAttempt",
    "DispatchDecision",
    "OutboundBudget",
    "OutboundSwitch",
    "TranscriptTurn",
    "WebhookEvent",
]
