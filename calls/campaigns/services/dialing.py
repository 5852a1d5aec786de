"""Sending one recorded attempt to Vapi, and finding it again after a crash.

Vapi's POST /call has no idempotency key, so the guarantee "one attempt never dials twice"
comes from our ledger: the attempt row is moved to ``requesting`` and committed before the
HTTP request leaves; only a ``reserved`` row is ever sent (a conditional UPDATE decides who
sends it), and a ``requesting``/``unknown`` row is resolved by listing Vapi's calls and
matching the ``name`` label we sent — never by sending again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from calls.campaigns.services.budget import budget_report_limits
from calls.campaigns.services.checks import (
    ALLOW,
    Verdict,
    check_do_not_call,
    check_kill_switch,
    decision_record,
)
from calls.campaigns.services.ended import call_ended_apply
from calls.campaigns.services.outcomes import recipient_apply_outcome
from calls.campaigns.services.refusals import attempt_refuse, recipient_requeue_unattempted
from calls.campaigns.services.transitions import attempt_abandon
from calls.enums import (
    AttemptState,
    CallStatus,
    CampaignState,
    DecisionRule,
    Direction,
    Outcome,
    RecipientState,
)
from calls.models import Call, Campaign, CampaignRecipient, DialAttempt
from tools.services.linking import tool_records_link_call
from voiceops.logging import mask_number
from voiceops.vapi.client import VapiError, get_client
from voiceops.vapi.voicemail import voicemail_plan_for_campaign

log = structlog.get_logger(__name__)


def attempt_payload(*, attempt: DialAttempt) -> dict[str, Any]:
    """CONTRACT §7.4 CreateCallDTO; only fields Vapi defines (unknown properties are a 400)."""
    customer: dict[str, Any] = {"number": attempt.number}
    if attempt.customer_name:
        customer["name"] = attempt.customer_name
    payload: dict[str, Any] = {
        "assistantId": attempt.assistant.vapi_id if attempt.assistant else None,
        "phoneNumberId": attempt.phone_number_vapi_id,
        "customer": customer,
        "name": attempt.vapi_name,
    }
    overrides: dict[str, Any] = {}
    if attempt.variables:
        overrides["variableValues"] = {str(k): v for k, v in attempt.variables.items()}
    if attempt.campaign_id and attempt.assistant is not None:
        # Vapi leaves voicemail detection off by default: a campaign call turns it on (unless the
        # assistant says "off"), so a machine ends as ``voicemail`` and the voicemail retry applies.
        overrides["voicemailDetection"] = voicemail_plan_for_campaign(attempt.assistant.voicemail_detection)
        if attempt.assistant.voicemail_message:
            overrides["voicemailMessage"] = attempt.assistant.voicemail_message
    if overrides:
        payload["assistantOverrides"] = overrides
    return payload


def _release(*, attempt: DialAttempt, outcome: str, now: dt.datetime, detail: str) -> None:
    """Hand the recipient of a failed/never-sent attempt back to the retry policy (row locked)."""
    if attempt.recipient_id is None:
        return
    recipient = (
        CampaignRecipient.objects.select_for_update(of=("self",))
        .select_related("campaign", "customer")
        .get(pk=attempt.recipient_id)
    )
    if recipient.state in (RecipientState.DIALING, RecipientState.IN_CALL):
        recipient_apply_outcome(recipient=recipient, outcome=outcome, now=now, detail=detail)


def _campaign_share_lock(*, campaign_id: int) -> str | None:
    """The campaign's state, with a FOR KEY SHARE lock until commit: a pause or cancel (FOR UPDATE)
    waits for this dial's ``requesting`` commit, and every dial after it sees the new state. KEY
    SHARE, not SHARE, so a dial does not wait for another round's reservation (FOR NO KEY UPDATE)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT state FROM {Campaign._meta.db_table} WHERE id = %s FOR KEY SHARE",  # noqa: S608 - table name
            [campaign_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class PostResult:
    """What POST /call gave for one attempt: the answer, or the error (never both)."""

    response: Any = None
    error: VapiError | None = None

    @property
    def refused(self) -> bool:
        """Vapi refused for concurrency or rate: the round should stop dialling."""
        if self.error is not None:
            return self.error.status == 429
        limits = self.response.get("subscriptionLimits") if isinstance(self.response, dict) else None
        return isinstance(limits, dict) and limits.get("concurrencyBlocked") is True


def attempt_dial(*, attempt_id: int) -> DialAttempt:
    """Send one reserved attempt to Vapi. Safe to call twice: only one caller gets to send."""
    attempt, mine = attempt_prepare(attempt_id=attempt_id)
    if not mine:
        return attempt
    return attempt_record(attempt=attempt, result=attempt_post(attempt=attempt))


def attempt_prepare(*, attempt_id: int) -> tuple[DialAttempt, bool]:
    """The last checks, then ``requesting`` committed: True when this caller must send it now.

    Only a ``reserved`` row moves (under its row lock), so of any number of callers one sends."""
    now = timezone.now()
    campaign_id = DialAttempt.objects.filter(pk=attempt_id).values_list("campaign_id", flat=True).first()
    with transaction.atomic():
        # Campaign first, attempt second: the order pause/cancel take their locks in.
        campaign_state = _campaign_share_lock(campaign_id=campaign_id) if campaign_id else None
        attempt = (
            DialAttempt.objects.select_for_update(of=("self",))
            .select_related("assistant", "customer")
            .get(pk=attempt_id)
        )
        if attempt.state != AttemptState.RESERVED:
            return attempt, False
        # The last checks, at the last moment: a pause, a kill switch or an opt-out seconds ago wins.
        blocked = ALLOW
        if campaign_id and campaign_state != CampaignState.RUNNING:
            blocked = Verdict(
                DecisionRule.CAMPAIGN_STATE, False, f"The campaign is {campaign_state}; not dialled."
            )
        if blocked.allowed:
            blocked = check_kill_switch()
        if blocked.allowed and attempt.customer is not None:
            blocked = check_do_not_call(customer=attempt.customer)  # read with the row lock above
        if not blocked.allowed:
            decision_record(
                verdict=blocked,
                at=now,
                campaign=attempt.campaign,
                recipient=attempt.recipient,
                customer=attempt.customer,
                attempt=attempt,
            )
            attempt_abandon(
                attempt=attempt,
                reason=f"{blocked.rule}: {blocked.detail}",
                blocked=blocked.rule == DecisionRule.DO_NOT_CALL,
                cancelled=campaign_state == CampaignState.CANCELLED,
            )
            attempt.refresh_from_db()
            return attempt, False
        attempt.state = AttemptState.REQUESTING
        attempt.requested_at = now
        attempt.save(update_fields=["state", "requested_at", "updated_at"])
        if attempt.recipient_id:
            # Counted as an attempt from the moment it may ring the phone (max attempts, caps);
            # a refusal gives it back (calls.campaigns.services.refusals).
            CampaignRecipient.objects.filter(pk=attempt.recipient_id).update(
                attempts=F("attempts") + 1, updated_at=now
            )
    return attempt, True


def attempt_post(*, attempt: DialAttempt) -> PostResult:
    """POST /call for a prepared attempt. HTTP only, no database: a round runs several at once."""
    log.info(
        "outbound.dial",
        attempt_id=attempt.pk,
        number=mask_number(attempt.number),
        campaign_id=attempt.campaign_id,
    )
    try:
        return PostResult(response=get_client().call_create(attempt_payload(attempt=attempt)))
    except VapiError as exc:
        return PostResult(error=exc)


def attempt_record(*, attempt: DialAttempt, result: PostResult) -> DialAttempt:
    """Record what POST /call gave for a ``requesting`` attempt (accepted, refused, rejected, unknown)."""
    response = result.response
    exc = result.error
    if exc is not None:
        if exc.status == 429:
            # Rate limited: certainly not placed, and not the recipient's fault. Not an attempt.
            attempt_refuse(
                attempt_id=attempt.pk, error=f"Vapi answered 429: {exc.message}", retry_after=exc.retry_after
            )
            attempt.refresh_from_db()
            return attempt
        if exc.status is not None and 400 <= exc.status < 500:
            return attempt_reject(attempt=attempt, error=str(exc))
        # No answer, or a 5xx: Vapi may have placed the call. Never re-send; reconcile (backed off).
        DialAttempt.objects.filter(pk=attempt.pk, state=AttemptState.REQUESTING).update(
            state=AttemptState.UNKNOWN,
            error=str(exc)[:2000],
            updated_at=timezone.now(),
            next_reconcile_at=timezone.now(),
        )
        log.warning("outbound.dial.ambiguous", attempt_id=attempt.pk, error=str(exc))
        return attempt_reconcile(attempt_id=attempt.pk)
    if not isinstance(response, dict) or not response.get("id"):
        DialAttempt.objects.filter(pk=attempt.pk, state=AttemptState.REQUESTING).update(
            state=AttemptState.UNKNOWN,
            error="Vapi answered without a call id.",
            updated_at=timezone.now(),
            next_reconcile_at=timezone.now(),
        )
        return attempt_reconcile(attempt_id=attempt.pk)
    limits = response.get("subscriptionLimits")
    budget_report_limits(limits=limits)
    attempt = attempt_accept(attempt_id=attempt.pk, call_data=response)
    if isinstance(limits, dict) and limits.get("concurrencyBlocked") is True:
        # Vapi took the request but the org is at its limit: the call ends without ringing.
        attempt_refuse(
            attempt_id=attempt.pk,
            error="Vapi's concurrency limit is reached (subscriptionLimits.concurrencyBlocked).",
        )
        attempt.refresh_from_db()
    return attempt


def attempt_reject(*, attempt: DialAttempt, error: str) -> DialAttempt:
    """Vapi refused the request (4xx): the call was certainly not placed."""
    now = timezone.now()
    with transaction.atomic():
        changed = DialAttempt.objects.filter(
            pk=attempt.pk, state__in=[AttemptState.REQUESTING, AttemptState.UNKNOWN]
        ).update(state=AttemptState.REJECTED, error=error[:2000], ended_at=now, updated_at=now)
        if changed:
            _release(attempt=attempt, outcome=Outcome.FAILED, now=now, detail=f"Vapi refused: {error}")
    log.warning("outbound.dial.rejected", attempt_id=attempt.pk, error=error)
    attempt.refresh_from_db()
    return attempt


def _call_from(*, attempt: DialAttempt, data: dict[str, Any]) -> Call:
    """The Call row for an accepted attempt; the webhook may have created it first (by vapi_id)."""
    status = str(data["status"]) if data.get("status") in CallStatus.values else str(CallStatus.QUEUED)
    snapshot = {k: v for k, v in data.items() if k != "subscriptionLimits"}
    assistant = attempt.assistant
    link = {
        "assistant": assistant,
        "assistant_version": assistant.pushed_version if assistant else None,
        "vapi_assistant_id": (assistant.vapi_id or "") if assistant else "",
        "customer_id": attempt.customer_id,
        "customer_number": attempt.number,
        "phone_number_id": attempt.phone_number_id,
        "campaign_id": attempt.campaign_id,
        "campaign_recipient_id": attempt.recipient_id,
    }
    call, created = Call.objects.get_or_create(
        vapi_id=str(data["id"]),
        defaults={**link, "direction": Direction.OUTBOUND, "status": status, "vapi_call": snapshot},
    )
    if created:
        tool_records_link_call(call=call)
    else:
        missing = {k: v for k, v in link.items() if v not in (None, "") and getattr(call, k) in (None, "")}
        if missing:
            Call.objects.filter(pk=call.pk).update(**missing)
            for key, value in missing.items():
                setattr(call, key, value)
    return call


def attempt_accept(*, attempt_id: int, call_data: dict[str, Any]) -> DialAttempt:
    """Record Vapi's call for an attempt (from the POST answer or from reconciliation)."""
    now = timezone.now()
    with transaction.atomic():
        attempt = (
            DialAttempt.objects.select_for_update(of=("self",)).select_related("assistant").get(pk=attempt_id)
        )
        if attempt.state not in (AttemptState.REQUESTING, AttemptState.UNKNOWN, AttemptState.LOST):
            return attempt
        call = _call_from(attempt=attempt, data=call_data)
        attempt.state = AttemptState.ACCEPTED
        attempt.vapi_call_id = call.vapi_id
        attempt.call = call
        attempt.accepted_at = now
        attempt.save(update_fields=["state", "vapi_call_id", "call", "accepted_at", "updated_at"])
        if attempt.recipient_id:
            CampaignRecipient.objects.filter(
                pk=attempt.recipient_id,
                state__in=[RecipientState.DIALING, RecipientState.RETRY, RecipientState.PENDING],
            ).update(state=RecipientState.IN_CALL, next_attempt_at=None, updated_at=now)
    if Call.objects.filter(pk=call.pk, status=CallStatus.ENDED).exists():
        # The call ended before our link committed (very short call): the end hook may have found no
        # attempt. Re-read after commit; applying twice is harmless (the attempt row decides once).
        call_ended_apply(call=call)
    return attempt


def reconcile_backoff(*, tries: int) -> dt.timedelta:
    """5 s, 10 s, 20 s ... at most OUTBOUND_RECONCILE_MAX_SECONDS between lookups of one attempt."""
    seconds = settings.OUTBOUND_RECONCILE_BASE_SECONDS * 2 ** max(tries - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.OUTBOUND_RECONCILE_MAX_SECONDS))


def attempt_reconcile(*, attempt_id: int, now: dt.datetime | None = None) -> DialAttempt:
    """Find an attempt whose POST answer was lost by listing Vapi's calls for its label."""
    now = now or timezone.now()
    attempt = DialAttempt.objects.select_related("assistant").get(pk=attempt_id)
    if attempt.state not in (AttemptState.REQUESTING, AttemptState.UNKNOWN):
        return attempt
    since = (attempt.requested_at or attempt.created_at) - dt.timedelta(minutes=5)
    params: dict[str, Any] = {"createdAtGe": since.isoformat().replace("+00:00", "Z"), "limit": 1000}
    if attempt.assistant and attempt.assistant.vapi_id:
        params["assistantId"] = attempt.assistant.vapi_id
    if attempt.phone_number_vapi_id:
        params["phoneNumberId"] = attempt.phone_number_vapi_id
    try:
        calls = get_client().call_list(**params)
    except VapiError as exc:
        DialAttempt.objects.filter(pk=attempt.pk).update(
            reconcile_tries=attempt.reconcile_tries + 1,
            next_reconcile_at=now + reconcile_backoff(tries=attempt.reconcile_tries + 1),
            error=f"reconcile: {exc}"[:2000],
            updated_at=now,
        )
        attempt.refresh_from_db()
        return attempt
    match = next(
        (
            c
            for c in calls or []
            if isinstance(c, dict) and c.get("name") == attempt.vapi_name and c.get("id")
        ),
        None,
    )
    if match is not None:
        log.info("outbound.reconcile.found", attempt_id=attempt.pk, vapi_call_id=match["id"])
        return attempt_accept(attempt_id=attempt.pk, call_data=match)
    tries = attempt.reconcile_tries + 1
    sent_at = attempt.requested_at or attempt.created_at
    give_up = tries >= settings.OUTBOUND_RECONCILE_MAX_LOOKUPS or (
        tries >= 3 and now - sent_at >= dt.timedelta(seconds=settings.OUTBOUND_LOST_AFTER_SECONDS)
    )
    with transaction.atomic():
        if give_up:
            changed = DialAttempt.objects.filter(
                pk=attempt.pk, state__in=[AttemptState.REQUESTING, AttemptState.UNKNOWN]
            ).update(
                state=AttemptState.LOST,
                reconcile_tries=tries,
                # Free the key: a client retrying the same request gets a fresh try.
                idempotency_key=Concat(F("idempotency_key"), Value(f"#lost-{attempt.pk}")),
                ended_at=now,
                updated_at=now,
                error="Not found in Vapi after reconciliation; treated as not placed.",
            )
            if changed and attempt.recipient_id is not None:
                # Never became a call (a 5xx before the call existed): not an attempt.
                recipient_requeue_unattempted(
                    recipient_id=attempt.recipient_id,
                    at=now,
                    detail="The call was never found in Vapi; not counted as an attempt.",
                )
            if changed:
                log.warning("outbound.reconcile.lost", attempt_id=attempt.pk)
        else:
            DialAttempt.objects.filter(pk=attempt.pk).update(
                reconcile_tries=tries, next_reconcile_at=now + reconcile_backoff(tries=tries), updated_at=now
            )
    attempt.refresh_from_db()
    return attempt
