"""What happens to a recipient after an attempt: done, retry later (per outcome group), or give up.

Called with the recipient row locked, from the end-of-call hook, from a Vapi refusal, and from
reconciliation when an attempt turns out never to have been placed.

Two caps stop the retries: the campaign's ``max_attempts`` over every attempt (the ceiling), and
a group's own ``max_attempts`` over the attempts that ended in that group ("at most 2 busy").
Refusals and calls never placed are not attempts (``refusals``), so neither cap counts them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from calls.campaigns.models import default_retry_policy
from calls.campaigns.services.checks import Verdict, decision_record
from calls.campaigns.services.reached import REACHED_OUTCOMES
from calls.enums import AttemptState, CampaignState, DecisionRule, Outcome, RecipientState
from calls.models import Campaign, CampaignRecipient, DialAttempt

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
MAX_ATTEMPTS_LIMIT = 20  # the API's bound on the campaign's max_attempts, too


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
        cap = rule.get("max_attempts")
        if cap is not None and (
            isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= MAX_ATTEMPTS_LIMIT
        ):
            limit = MAX_ATTEMPTS_LIMIT
            errors.append(f"'{group}.max_attempts' must be empty (null) or a whole number from 1 to {limit}.")
    return errors


def _rule_for(campaign: Campaign, group: str) -> dict[str, Any]:
    policy = campaign.retry_policy if isinstance(campaign.retry_policy, dict) else {}
    rule = policy.get(group)
    if not isinstance(rule, dict):
        rule = default_retry_policy()[group]
    return rule


def group_attempts(*, recipient_id: int, group: str) -> int:
    """The recipient's attempts that ended in ``group``. A 4xx rejection was an attempt that failed;
    refused, lost and abandoned rows never rang anyone and are not counted."""
    ended_in = Q(state=AttemptState.ENDED, outcome__in=[o for o, g in RETRY_GROUP.items() if g == group])
    if group == "failed":
        ended_in |= Q(state=AttemptState.REJECTED)
    return DialAttempt.objects.filter(ended_in, recipient_id=recipient_id).count()


def retry_decision(
    *, rule: dict[str, Any], outcome: str, attempts: int, in_group: int, campaign_max: int
) -> Verdict | None:
    """Why a retryable outcome is not retried (``None``: retry). ``in_group`` (the attempts that
    ended in the outcome's group) includes the attempt that just ended, hence at least 1."""
    if attempts >= campaign_max:
        detail = f"{attempts} of {campaign_max} attempts used (last: {outcome})."
        return Verdict(DecisionRule.MAX_ATTEMPTS, False, detail)
    cap = rule.get("max_attempts")
    if cap is not None and max(in_group, 1) >= cap:
        detail = (
            f"{max(in_group, 1)} of {cap} attempts ended '{RETRY_GROUP.get(outcome, 'failed')}' "
            f"(the retry policy's cap for it; {attempts} of {campaign_max} attempts in all)."
        )
        return Verdict(DecisionRule.MAX_ATTEMPTS, False, detail)
    return None


def recipient_apply_outcome(
    *, recipient: CampaignRecipient, outcome: str, now: dt.datetime, detail: str = ""
) -> CampaignRecipient:
    """Move a (locked) recipient on after an attempt; writes a decision row when a rule stops it.

    The callers read the recipient under its lock with its campaign and customer (one query).
    """
    campaign = recipient.campaign
    customer = recipient.customer
    recipient.last_outcome = outcome
    recipient.next_attempt_at = None
    if detail:
        recipient.last_error = detail[:2000]
    stop: Verdict | None = None
    if customer.do_not_call:
        recipient.state = RecipientState.BLOCKED
        stop = Verdict(DecisionRule.DO_NOT_CALL, False, "Opted out (do-not-call); never called again.")
    elif outcome in REACHED_OUTCOMES:
        recipient.state = RecipientState.DONE
    elif outcome == Outcome.INVALID_NUMBER:
        recipient.state = RecipientState.FAILED
    elif outcome == Outcome.CANCELLED or campaign.state == CampaignState.CANCELLED:
        recipient.state = RecipientState.CANCELLED
    else:
        group = RETRY_GROUP.get(outcome, "failed")
        rule = _rule_for(campaign, group)
        in_group = 0  # counted only when the group has its own cap (one query)
        if rule.get("retry", True) and rule.get("max_attempts") is not None:
            in_group = group_attempts(recipient_id=recipient.pk, group=group)
        if not rule.get("retry", True):
            recipient.state = RecipientState.FAILED
        elif stop := retry_decision(
            rule=rule,
            outcome=outcome,
            attempts=recipient.attempts,
            in_group=in_group,
            campaign_max=campaign.max_attempts,
        ):
            recipient.state = RecipientState.FAILED
        else:
            recipient.state = RecipientState.RETRY
            recipient.next_attempt_at = now + dt.timedelta(minutes=float(rule.get("delay_minutes", 0)))
    recipient.save(update_fields=["state", "last_outcome", "next_attempt_at", "last_error", "updated_at"])
    if stop is not None:
        decision_record(verdict=stop, at=now, campaign=campaign, recipient=recipient, customer=customer)
    return recipient
