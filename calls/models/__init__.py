"""Calls domain models, split by sub-domain."""

from calls.models.calls import Call, TranscriptTurn
from calls.models.campaigns import Campaign, CampaignRecipient
from calls.models.control import CallControl
from calls.models.customers import Customer
from calls.models.discovery import CallDiscoveryCursor
from calls.models.events import WebhookEvent
from calls.models.outbound import DialAttempt, DispatchDecision, OutboundBudget, OutboundSwitch
from calls.models.transfers import CallTransfer

__all__ = [
    "Call",
    "CallControl",
    "CallDiscoveryCursor",
    "CallTransfer",
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
