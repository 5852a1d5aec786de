"""What happens to a recipient after an attempt: done, retry later (per outcome group), or give up.

Called with the recipient row locked, from the end-of-call hook, from a Vapi refusal, and from
reconciliation when an attempt turns out never to have been placed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from calls.enums import CampaignState, DecisionRule, Outcome, RecipientState
from calls.models import Campaign, CampaignRecipient, Customer
from calls.models.campaigns import default_retry_policy
from calls.services.campaigns.checks import Verdict, decision_record

# Outcome -> retry-policy group. OTHER (an ended reason we do not know) is treated as a failure.
RETRY_GROUP: dict[str, str] = {
    Outcome.BUSY: "busy",
    Outcome.NO_ANSWER: "no-answer",
    Outcome.VOICEMAIL: "voicemail",
    Outcome.NOT_REACHED: "not-reached",
    Outcome.FAILED: "failed",
    Outcome.OTHER: "failed",
}
RETRY_GROUPS = ("busy", "no-answer", "voicemail", "not-reached", "failed")


def retry_policy_errors(policy: Any) -> list[str]:
    """Validate a retry policy JSON; returns human-readable problems (empty when valid)."""
    if not isinstance(policy, dict):
        return ["The retry policy must be an object keyed by outcome group."]
    errors = [
        f"Unknown outcome group '{key}' (use {', '.join(RETRY_GROUPS)})."
        for key in policy
        if key not in RETRY_GROUPS
    ]
    for group, rule in policy.items():
        if group not in RETRY_GROUPS:
            continue
        if not isinstance(rule, dict):
            errors.append(f'\'{group}\' must be an object like {{"retry": true, "delay_minutes": 30}}.')
            continue
        if not isinstance(rule.get("retry", True), bool):
            errors.append(f"'{group}.retry' must be true or false.")
        delay = rule.get("delay_minutes", 0)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0 or delay > 60 * 24 * 30:
            errors.append(f"'{group}.delay_minutes' must be a number of minutes between 0 and 43200.")
    return errors


def _rule_for(campaign: Campaign, group: str) -> dict[str, Any]:
    policy = campaign.retry_policy if isinstance(campaign.retry_policy, dict) else {}
    rule = policy.get(group)
    if not isinstance(rule, dict):
        rule = default_retry_policy()[group]
    return rule


def recipient_apply_outcome(
    *, recipient: CampaignRecipient, outcome: str, now: dt.datetime, detail: str = ""
) -> CampaignRecipient:
    """Move a (locked) recipient on after an attempt; writes a decision row when a rule stops it."""
    campaign = recipient.campaign
    customer = Customer.objects.get(pk=recipient.customer_id)
    recipient.last_outcome = outcome
    recipient.next_attempt_at = None
    if detail:
        recipient.last_error = detail[:2000]
    stop: Verdict | None = None
    if customer.do_not_call:
        recipient.state = RecipientState.BLOCKED
        stop = Verdict(DecisionRule.DO_NOT_CALL, False, "Opted out (do-not-call); never called again.")
    elif outcome in (Outcome.COMPLETED, Outcome.TRANSFERRED, Outcome.TRANSFER_FAILED):
        # A transfer (even one the person did not pick up) means the customer was reached.
        recipient.state = RecipientState.DONE
    elif outcome == Outcome.INVALID_NUMBER:
        recipient.state = RecipientState.FAILED
    elif outcome == Outcome.CANCELLED or campaign.state == CampaignState.CANCELLED:
        recipient.state = RecipientState.CANCELLED
    else:
        group = RETRY_GROUP.get(outcome, "failed")
        rule = _rule_for(campaign, group)
        if not rule.get("retry", True):
            recipient.state = RecipientState.FAILED
        elif recipient.attempts >= campaign.max_attempts:
            recipient.state = RecipientState.FAILED
            stop = Verdict(
                DecisionRule.MAX_ATTEMPTS,
                False,
                f"{recipient.attempts} of {campaign.max_attempts} attempts used (last: {outcome}).",
            )
        else:
            recipient.state = RecipientState.RETRY
            recipient.next_attempt_at = now + dt.timedelta(minutes=float(rule.get("delay_minutes", 0)))
    recipient.save(update_fields=["state", "last_outcome", "next_attempt_at", "last_error", "updated_at"])
    if stop is not None:
        decision_record(verdict=stop, at=now, campaign=campaign, recipient=recipient, customer=customer)
    return recipient
