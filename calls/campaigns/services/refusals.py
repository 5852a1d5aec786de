"""Refusals are not attempts: Vapi said no before any phone rang.

A 429, a ``subscriptionLimits.concurrencyBlocked`` answer, a call that ends with one of Vapi's
"could not start" reasons (concurrency limit, no worker), or an ambiguous 5xx that reconciliation
shows never became a call: the recipient goes back to the queue with its attempt count given back,
due again after Vapi's ``Retry-After`` (or an exponential back-off), and every dispatcher in the
org holds off until then (``budget_hold``), so one refusal is not followed by a burst of others.
"""

from __future__ import annotations

import datetime as dt

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from calls.campaigns.services.budget import budget_hold
from calls.campaigns.services.checks import Verdict, decision_record
from calls.enums import AttemptState, DecisionRule, RecipientState
from calls.models import CampaignRecipient, DialAttempt

log = structlog.get_logger(__name__)

# Attempt states a refusal may come from: sent (requesting/unknown) or seemingly accepted.
REFUSABLE = [AttemptState.REQUESTING, AttemptState.UNKNOWN, AttemptState.ACCEPTED]
MAX_RETRY_AFTER = 3600.0


def refusal_delay(*, recipient_id: int | None, retry_after: float | None, now: dt.datetime) -> float:
    """Seconds to wait: Vapi's Retry-After when it gave one, else 5 s doubling per recent refusal."""
    if retry_after is not None and retry_after >= 0:
        return min(max(retry_after, 1.0), MAX_RETRY_AFTER)
    recent = 0
    if recipient_id is not None:
        recent = DialAttempt.objects.filter(
            recipient_id=recipient_id,
            state=AttemptState.REFUSED,
            ended_at__gte=now - dt.timedelta(hours=1),
        ).count()
    base = settings.OUTBOUND_REFUSAL_BACKOFF_SECONDS
    return float(min(base * 2**recent, settings.OUTBOUND_REFUSAL_BACKOFF_MAX_SECONDS))


def recipient_requeue_unattempted(
    *, recipient_id: int, at: dt.datetime, detail: str, refund: bool = True
) -> None:
    """Give the recipient back its attempt and make it due at ``at`` (row locked by the caller's
    transaction). Only a recipient this attempt still holds (dialing / in call) moves."""
    recipient = CampaignRecipient.objects.select_for_update(of=("self",)).get(pk=recipient_id)
    if recipient.state not in (RecipientState.DIALING, RecipientState.IN_CALL):
        return
    attempts = max(recipient.attempts - 1, 0) if refund else recipient.attempts
    recipient.attempts = attempts
    recipient.state = RecipientState.RETRY if attempts else RecipientState.PENDING
    recipient.next_attempt_at = at
    recipient.last_error = detail[:2000]
    recipient.save(update_fields=["attempts", "state", "next_attempt_at", "last_error", "updated_at"])


def attempt_refuse(
    *,
    attempt_id: int,
    error: str,
    retry_after: float | None = None,
    hold: bool = True,
    now: dt.datetime | None = None,
) -> bool:
    """Mark a sent attempt ``refused`` (not an attempt) and requeue its recipient. True if it moved.

    The idempotency key is renamed so a client retrying the same API request (same key) gets a
    fresh try instead of the refusal replayed as final.
    """
    now = now or timezone.now()
    with transaction.atomic():
        attempt = DialAttempt.objects.select_for_update(of=("self",)).filter(pk=attempt_id).first()
        if attempt is None or attempt.state not in REFUSABLE:
            return False
        delay = refusal_delay(recipient_id=attempt.recipient_id, retry_after=retry_after, now=now)
        due = now + dt.timedelta(seconds=delay)
        DialAttempt.objects.filter(pk=attempt.pk).update(
            state=AttemptState.REFUSED,
            error=error[:2000],
            ended_at=now,
            updated_at=now,
            idempotency_key=Concat(F("idempotency_key"), Value(f"#refused-{attempt.pk}")),
        )
        verdict = Verdict(DecisionRule.VAPI_REFUSED, False, f"{error} Due again in {delay:.0f} s.")
        decision_record(
            verdict=verdict,
            at=now,
            campaign=attempt.campaign,
            recipient=attempt.recipient,
            customer=attempt.customer,
            attempt=attempt,
        )
        if attempt.recipient_id is not None:
            recipient_requeue_unattempted(
                recipient_id=attempt.recipient_id,
                at=due,
                detail=f"Vapi refused (not an attempt): {error}",
            )
    if hold:
        budget_hold(until=due, reason=error)
    log.warning("outbound.dial.refused", attempt_id=attempt_id, error=error, retry_in=round(delay, 1))
    return True
