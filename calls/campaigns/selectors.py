"""Reads about campaigns, for the admin, the API, the beat tick and the services: progress (one
place computes it, from the database), money spent, which campaigns to dispatch."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from calls.enums import AttemptState, CampaignState, Outcome, RecipientState
from calls.models import Campaign, CampaignRecipient, DialAttempt

PICKED_UP = {Outcome.COMPLETED}
ANSWERED_BY_MACHINE_OR_PERSON = {Outcome.COMPLETED, Outcome.VOICEMAIL}
RECIPIENTS_SHOWN = 50  # on the campaign page; the recipients changelist has them all
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


def campaign_spent(*, campaign: Campaign) -> float:
    total = campaign.calls.aggregate(total=Sum("cost"))["total"]
    return float(total or 0)


def campaigns_dispatchable() -> list[int]:
    """Campaigns the beat tick should look at: running, or scheduled and due to start."""
    now = timezone.now()
    return list(
        Campaign.objects.filter(
            Q(state=CampaignState.RUNNING)
            | Q(state=CampaignState.SCHEDULED) & (Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        ).values_list("pk", flat=True)
    )


def campaign_activity(*, campaign: Campaign, limit: int = 20) -> list[dict[str, Any]]:
    """State changes, newest first, with who made them (a person, an API key, or the dialer)."""
    rows = []
    previous_state = None
    history = list(
        campaign.history.order_by("history_id").values(  # type: ignore[attr-defined]
            "state", "state_reason", "history_date", "history_user__username", "history_change_reason"
        )
    )
    for item in history:
        if item["state"] != previous_state:
            rows.append(
                {
                    "at": item["history_date"],
                    "state": Campaign(state=item["state"]).get_state_display(),
                    "by": item["history_user__username"]
                    or item["history_change_reason"]
                    or ("the dialer" if previous_state is not None else "—"),
                    "reason": item["state_reason"],
                }
            )
        previous_state = item["state"]
    return list(reversed(rows))[:limit]


def campaign_recipients(*, campaign: Campaign, state: str) -> list[CampaignRecipient]:
    queryset = CampaignRecipient.objects.filter(campaign=campaign).order_by("id")
    if state in RecipientState.values:
        queryset = queryset.filter(state=state)
    return list(
        queryset.only(
            "id", "number", "name", "state", "attempts", "next_attempt_at", "last_outcome", "campaign_id"
        )[:RECIPIENTS_SHOWN]
    )
