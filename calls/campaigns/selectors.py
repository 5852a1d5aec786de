"""Campaign progress for the admin and the API: one place computes it, from the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from calls.enums import AttemptState, Outcome, RecipientState
from calls.models import Campaign, CampaignRecipient, DialAttempt

PICKED_UP = {Outcome.COMPLETED}
ANSWERED_BY_MACHINE_OR_PERSON = {Outcome.COMPLETED, Outcome.VOICEMAIL}
REMAINING = [RecipientState.PENDING, RecipientState.RETRY, RecipientState.DIALING, RecipientState.IN_CALL]


def campaign_progress(*, campaign: Campaign, now: dt.datetime | None = None) -> dict[str, Any]:
    """Counts per recipient state, attempts, pickup rate, outcome mix, cost so far and an ETA.

    The ETA divides the recipients still open by the rate at which recipients were finished
    over the last 15 minutes (or since the first attempt when younger), and is never earlier
    than the last scheduled retry. None until there is a rate and no retry is waiting.
    """
    now = now or timezone.now()
    states = {s.value: 0 for s in RecipientState}
    for row in CampaignRecipient.objects.filter(campaign=campaign).values("state").annotate(n=Count("id")):
        states[row["state"]] = row["n"]
    total = sum(states.values())
    attempts = DialAttempt.objects.filter(campaign=campaign)
    attempt_states = {row["state"]: row["n"] for row in attempts.values("state").annotate(n=Count("id"))}
    ended = attempts.filter(state=AttemptState.ENDED)
    outcome_mix = {row["outcome"]: row["n"] for row in ended.values("outcome").annotate(n=Count("id"))}
    ended_count = sum(outcome_mix.values())
    picked = sum(n for k, n in outcome_mix.items() if k in PICKED_UP)
    cost = campaign.calls.aggregate(total=Sum("cost"))["total"]
    remaining = sum(states[s] for s in REMAINING)

    eta_seconds: float | None = None
    first = attempts.order_by("created_at").values_list("created_at", flat=True).first()
    if remaining and first is not None:
        since = max(first, now - dt.timedelta(minutes=15))
        finished_recently = (
            CampaignRecipient.objects.filter(campaign=campaign, updated_at__gte=since)
            .exclude(state__in=REMAINING)
            .count()
        )
        elapsed = (now - since).total_seconds()
        if finished_recently and elapsed > 0:
            eta_seconds = remaining / (finished_recently / elapsed)
    elif not remaining:
        eta_seconds = 0.0
    # Retries wait for their delay: the campaign cannot finish before the last one is due.
    last_retry = (
        CampaignRecipient.objects.filter(campaign=campaign, state=RecipientState.RETRY)
        .order_by("-next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if last_retry is not None and last_retry > now:
        eta_seconds = max(eta_seconds or 0.0, (last_retry - now).total_seconds())
    return {
        "campaign": campaign.pk,
        "state": campaign.state,
        "state_reason": campaign.state_reason,
        "recipients": total,
        "recipient_states": states,
        "remaining": remaining,
        "attempts": sum(attempt_states.values()),
        "attempt_states": attempt_states,
        "calls_ended": ended_count,
        "pickup_rate": round(picked / ended_count, 4) if ended_count else None,
        "outcome_mix": outcome_mix,
        "cost": float(cost or 0),
        "spend_limit": float(campaign.spend_limit) if campaign.spend_limit is not None else None,
        "eta_seconds": round(eta_seconds, 1) if eta_seconds is not None else None,
        "eta_at": (now + dt.timedelta(seconds=eta_seconds)).isoformat() if eta_seconds else None,
        "retries_waiting": states[RecipientState.RETRY],
        "last_retry_at": last_retry.isoformat() if last_retry is not None else None,
    }
