"""Outbound campaigns: recipients import, dispatcher, outcomes, control and progress.

Public services (SEAMS.md): ``campaign_start/pause/resume/cancel``, ``campaign_progress``,
``recipients_import``, ``outbound_kill_switch_set``, ``campaign_dispatch_due``.
"""

from calls.services.campaigns.control import (
    campaign_cancel,
    campaign_check_spend,
    campaign_pause,
    campaign_resume,
    campaign_start,
    outbound_kill_switch_set,
)
from calls.services.campaigns.dispatch import DispatchResult, campaign_dispatch_due, campaigns_dispatchable
from calls.services.campaigns.ended import call_ended_apply
from calls.services.campaigns.progress import campaign_progress
from calls.services.campaigns.recipients import ImportReport, recipients_import
from calls.services.campaigns.recovery import dial_attempts_recover

__all__ = [
    "DispatchResult",
    "ImportReport",
    "call_ended_apply",
    "campaign_cancel",
    "campaign_check_spend",
    "campaign_dispatch_due",
    "campaign_pause",
    "campaign_progress",
    "campaign_resume",
    "campaign_start",
    "campaigns_dispatchable",
    "dial_attempts_recover",
    "outbound_kill_switch_set",
    "recipients_import",
]
