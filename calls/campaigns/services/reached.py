"""What a campaign counts as reached: the recipient is done only when the campaign says so.

A connected call (outcome ``completed`` by its ended reason) is a reach only when it lasted at
least ``reached_min_seconds`` and, when the campaign asks, the analysis says it succeeded and/or
a structured-data field (e.g. ``booked``) is set. Anything else connected is ``not-reached`` and
follows the retry policy's ``not-reached`` group: a 3-second hang-up is not a conversation.
"""

from __future__ import annotations

from typing import Any

from django.db.models import DurationField, ExpressionWrapper, F, Q
from django.db.models.functions import Coalesce, Extract

from calls.enums import Outcome
from calls.models import Call, Campaign
from calls.outcomes import outcome_for_ended_reason

# Outcomes after which the recipient counts as reached (done): a judged conversation, or a
# transfer (even one the person did not pick up: the customer was on the line).
REACHED_OUTCOMES = (Outcome.COMPLETED, Outcome.TRANSFERRED, Outcome.TRANSFER_FAILED)

# successEvaluation is a string whatever the rubric (CONTRACT §4.5): "true", "8", "PASS", "A".
_FALSE_WORDS = {"", "false", "no", "fail", "failed", "none", "null", "0"}
_PASSING_GRADES = {"a", "b", "c", "pass", "passed", "true", "yes", "excellent", "good"}


def success_positive(value: str) -> bool:
    """A success evaluation counts as positive: true/pass, a grade A-C, or a score of at least half."""
    text = (value or "").strip().lower()
    if text in _FALSE_WORDS:
        return False
    if text in _PASSING_GRADES:
        return True
    try:
        score = float(text)
    except ValueError:
        return False
    if score > 10:  # a percentage
        return score >= 50
    return score >= 5 if score > 1 else score >= 0.5  # a 1-10 scale, or 0-1


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_WORDS
    return bool(value)


def long_enough_q() -> Q:
    """``reached_min_seconds`` as SQL over calls (the dashboard counts many calls at once): the
    same rule as ``reached_shortfall``: talk time = duration, else end minus start (NULL: too short)."""
    span = ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField())
    talk = Coalesce(F("duration_seconds"), Extract(span, "epoch"))
    return Q(campaign__reached_min_seconds=0) | Q(campaign__reached_min_seconds__lte=talk)


def analysis_reached(*, campaign: Campaign, success_evaluation: str, field_value: Any) -> bool:
    """The analysis part of the rule: a positive success evaluation and/or the structured field."""
    if campaign.reached_requires_success and not success_positive(success_evaluation):
        return False
    return not campaign.reached_structured_field or _truthy(field_value)


def reached_shortfall(*, call: Call, campaign: Campaign) -> str:
    """Why a connected call is not a reach for this campaign; empty when it is one."""
    duration = call.duration_seconds
    if duration is None and call.started_at and call.ended_at:
        duration = (call.ended_at - call.started_at).total_seconds()
    if campaign.reached_min_seconds and (duration or 0) < campaign.reached_min_seconds:
        return f"Connected for {duration or 0:.1f} s, under the campaign's {campaign.reached_min_seconds} s."
    if campaign.reached_requires_success and not success_positive(call.success_evaluation):
        return f"The success evaluation ({call.success_evaluation or 'none'!r}) is not positive."
    field = campaign.reached_structured_field
    if field and not _truthy((call.structured_data or {}).get(field)):
        return f"Structured data field '{field}' is not set."
    return ""


def campaign_call_outcome(*, call: Call, campaign: Campaign | None) -> tuple[str, str]:
    """The outcome group for an attempt's call, and why a connected call did not count."""
    outcome = call.outcome or outcome_for_ended_reason(call.ended_reason) or Outcome.OTHER
    if outcome != Outcome.COMPLETED or campaign is None:
        return str(outcome), ""
    shortfall = reached_shortfall(call=call, campaign=campaign)
    return (str(Outcome.NOT_REACHED), shortfall) if shortfall else (str(outcome), "")
