"""Calls domain models, split by sub-domain."""

from calls.models.calls import Call, TranscriptTurn
from calls.models.campaigns import Campaign, CampaignRecipient
from calls.models.customers import Customer
from calls.models.events import WebhookEvent
from calls.models.outbound import DialAttempt, DispatchDecision, OutboundSwitch

__all__ = [
    "Call",
    "Campaign",
    "CampaignRecipient",
    "Customer",
    "DialAttempt",
    "DispatchDecision",
    "OutboundSwitch",
    "TranscriptTurn",
    "WebhookEvent",
]
