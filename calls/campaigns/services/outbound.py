"""Placing one outbound call now (the API's "start a call"), through the same attempt ledger as
campaigns: recorded before the Vapi request, kill switch and do-not-call checked right before it,
and an idempotency key so a client retrying its request never dials twice."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from assistants.models import Assistant, PhoneNumber
from calls.campaigns.services.budget import budget_free, budget_hold_until, budget_lock
from calls.campaigns.services.checks import (
    Verdict,
    check_customer_caps,
    check_do_not_call,
    check_kill_switch,
    customer_try_lock,
    decision_record,
)
from calls.campaigns.services.dialing import attempt_dial
from calls.enums import AttemptState, DecisionRule
from calls.models import Call, DialAttempt
from calls.services.customers import customer_get_or_create
from voiceops.errors import Conflict, DomainError, InvalidState, TryLater
from voiceops.phones import number_to_e164

# A full org budget frees up within seconds (short calls) to minutes; ask for a quick retry.
BUDGET_FULL_RETRY_SECONDS = 5
# An ambiguous answer from Vapi is looked up within this time (the reconcile back-off).
UNKNOWN_RETRY_SECONDS = 30


def _normalise(number: str) -> str:
    """Valid, not merely possible: this number is about to be dialled and filed as a customer."""
    normalised = number_to_e164(number, region=settings.PHONENUMBER_DEFAULT_REGION, strict=True)
    if normalised is None:
        raise DomainError(
            f"'{number}' is not a valid phone number.",
            code="invalid_number",
            fields={"customer_number": ["Not a valid phone number."]},
        )
    return normalised


def _existing(key: str) -> Call:
    attempt = DialAttempt.objects.select_related("call").get(idempotency_key=key)
    if attempt.call is not None:
        return attempt.call
    if attempt.state in (AttemptState.REJECTED, AttemptState.ABANDONED, AttemptState.LOST):
        raise DomainError(
            f"The call with this idempotency key was not placed: {attempt.error}", code="call_not_placed"
        )
    if attempt.state == AttemptState.UNKNOWN:
        raise TryLater(
            "Vapi did not confirm the call with this idempotency key yet; it is being looked up.",
            retry_after=UNKNOWN_RETRY_SECONDS,
            unavailable=True,
            code="vapi_unavailable",
        )
    raise Conflict("A call with this idempotency key is still being placed; retry shortly.")


def call_place_outbound(
    *,
    assistant: Assistant,
    customer_number: str,
    phone_number: PhoneNumber | None = None,
    variables: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    customer_name: str = "",
) -> Call:
    """Place one call now. Raises DomainError (bad input, blocked), InvalidState (kill switch),
    Conflict (same key in flight), TryLater (the org's budget is full, Vapi refused or did not
    answer: the same request may be sent again). Replaying a key returns the call it placed."""
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 150):
        raise DomainError("The idempotency key must be 1-150 characters.", code="invalid_idempotency_key")
    key = f"single:{idempotency_key}" if idempotency_key else f"single:auto:{uuid.uuid4()}"
    if idempotency_key and DialAttempt.objects.filter(idempotency_key=key).exists():
        return _existing(key)
    if not assistant.vapi_id:
        raise InvalidState("The assistant has not been pushed to Vapi yet.")
    phone_vapi_id = phone_number.vapi_id if phone_number is not None else settings.VAPI_PHONE_NUMBER_ID
    if not phone_vapi_id:
        raise DomainError(
            "No phone number to call from (set one or VAPI_PHONE_NUMBER_ID).", code="no_phone_number"
        )
    if variables is not None and not isinstance(variables, dict):
        raise DomainError("variables must be an object of names to values.", code="invalid_variables")
    number = _normalise(customer_number)
    now = timezone.now()
    try:
        with transaction.atomic():
            customer, _ = customer_get_or_create(number=number, name=customer_name)
            verdict: Verdict = check_kill_switch()
            if verdict.allowed:
                verdict = check_do_not_call(customer=customer)
            if verdict.allowed and not customer_try_lock(customer_id=customer.pk):
                verdict = Verdict(
                    DecisionRule.CUSTOMER_BUSY, False, "Another call to this customer is being placed."
                )
            if verdict.allowed:
                verdict = check_customer_caps(customer=customer, now=now)
            if verdict.allowed:
                budget_lock()
                if budget_free(now=now) <= 0:
                    hold = budget_hold_until(now=now)
                    wait = (hold - now).total_seconds() if hold else BUDGET_FULL_RETRY_SECONDS
                    raise TryLater(
                        "Every outbound slot of the org's Vapi concurrency is in use; retry shortly.",
                        retry_after=wait,
                        code="outbound_budget_full",
                    )
            if not verdict.allowed:
                decision_record(verdict=verdict, at=now, customer=customer)
            else:
                attempt = DialAttempt.objects.create(
                    idempotency_key=key,
                    customer=customer,
                    number=number,
                    customer_name=customer_name[:200] or customer.name,
                    assistant=assistant,
                    phone_number=phone_number,
                    phone_number_vapi_id=phone_vapi_id,
                    variables=variables or {},
                )
                decision_record(
                    verdict=Verdict(DecisionRule.ALLOWED, True, "Single outbound call."),
                    at=now,
                    customer=customer,
                    attempt=attempt,
                )
    except IntegrityError:
        return _existing(key)
    if not verdict.allowed:
        # The decision row is committed (outside the failed branch) so the refusal is on record.
        error = InvalidState if verdict.rule == DecisionRule.KILL_SWITCH else DomainError
        raise error(
            f"Call not placed: {verdict.rule.label.lower()}. {verdict.detail}".strip(),
            code=str(verdict.rule).replace("-", "_"),
        )
    attempt = attempt_dial(attempt_id=attempt.pk)
    if attempt.state == AttemptState.REFUSED:
        hold = budget_hold_until(now=timezone.now())
        wait = (hold - timezone.now()).total_seconds() if hold else BUDGET_FULL_RETRY_SECONDS
        raise TryLater(
            f"Vapi refused the call for now: {attempt.error}", retry_after=wait, code="vapi_refused"
        )
    if attempt.call_id:
        return Call.objects.get(pk=attempt.call_id)
    if attempt.state == AttemptState.REJECTED:
        raise DomainError(f"Vapi refused the call: {attempt.error}", code="vapi_rejected")
    if attempt.state == AttemptState.ABANDONED:
        raise InvalidState(f"Call not placed: {attempt.error}")
    if attempt.state == AttemptState.LOST:
        raise TryLater(
            "Vapi did not answer and the call does not exist there; retry to place it.",
            retry_after=BUDGET_FULL_RETRY_SECONDS,
            unavailable=True,
            code="vapi_unavailable",
        )
    raise TryLater(
        f"Vapi did not confirm the call; it is being looked up (attempt {attempt.pk}). Retry with the same "
        "Idempotency-Key to get the call once it is found.",
        retry_after=UNKNOWN_RETRY_SECONDS,
        unavailable=True,
        code="vapi_unavailable",
    )
