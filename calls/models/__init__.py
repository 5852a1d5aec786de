"""Calls domain models, split by sub-domain; the campaign models live in ``calls.campaigns.models``
and are imported here so Django registers them under the ``calls`` app."""

from calls.campaigns.models import (
    Campaign,
    CampaignRecipient,
    DialAttempt,
    DispatchDecision,
    OutboundBudget,
    OutboundSwitch,
)
from calls.models.calls import Call, TranscriptTurn
from calls.models.control import CallControl
from calls.models.customers import Customer
from calls.models.discovery import CallDiscoveryCursor
from calls.models.events import WebhookEvent
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
