"""Vapi's ``endedReason`` strings mapped to our outcome groups (CONTRACT §8.2).

Exact values first, then prefixes and substrings. An unknown value is classified by
prefix or falls to OTHER; it is never rejected, and the verbatim reason is always stored.
"""

from __future__ import annotations

from calls.enums import Outcome

_EXACT: dict[str, Outcome] = {}


def _group(outcome: Outcome, *reasons: str) -> None:
    for reason in reasons:
        _EXACT[reason] = outcome


_group(
    Outcome.COMPLETED,
    "customer-ended-call",
    "assistant-ended-call",
    "assistant-said-end-call-phrase",
    "assistant-ended-call-after-message-spoken",
    "assistant-ended-call-with-hangup-task",
    "call.ending.hook-executed-say",
    "call.in-progress.twilio-completed-call",
    "call.in-progress.sip-completed-call",
    "vonage-completed",
    "exceeded-max-duration",
    "silence-timed-out",
    "customer-ended-call-before-warm-transfer",
    "customer-ended-call-after-warm-transfer-attempt",
    "customer-ended-call-during-transfer",
)
_group(Outcome.BUSY, "customer-busy")
# The person we transferred to was busy or did not answer: not the customer, never "busy".
_group(Outcome.TRANSFERRED, "assistant-forwarded-call", "call.ending.hook-executed-transfer")
_group(Outcome.TRANSFER_FAILED, "call.forwarding.operator-busy", "call.forwarding.no-answer")
_group(
    Outcome.NO_ANSWER,
    "customer-did-not-answer",
    "call.ringing.sip-inbound-caller-hungup-before-call-connect",
)
_group(Outcome.VOICEMAIL, "voicemail")
_group(Outcome.CANCELLED, "manually-canceled", "scheduled-call-deleted", "call-deleted")
_group(
    Outcome.INVALID_NUMBER,
    "twilio-reported-customer-misdialed",
    "sip-outbound-unallocated-number",
    "call.start.error-vapi-number-international",
)
_group(
    Outcome.FAILED,
    "sip-outbound-carrier-released-call",
    "twilio-failed-to-connect-call",
    "vonage-failed-to-connect-call",
    "vonage-rejected",
    "vonage-disconnected",
    "call.in-progress.error-sip-outbound-call-failed-to-connect",
    "call.in-progress.error-sip-inbound-call-failed-to-connect",
    "call.ringing.error-sip-inbound-call-failed-to-connect",
    "assistant-request-failed",
    "assistant-request-returned-error",
    "assistant-request-returned-unspeakable-error",
    "assistant-request-returned-invalid-assistant",
    "assistant-request-returned-no-assistant",
    "assistant-request-returned-forwarding-phone-number",
    "call-start-error-neither-assistant-nor-server-set",
    "assistant-not-found",
    "assistant-not-valid",
    "worker-shutdown",
    "assistant-join-timed-out",
    "phone-call-provider-closed-websocket",
)

_PREFIXES: list[tuple[str, Outcome]] = [
    ("call.start.", Outcome.FAILED),
    ("pipeline-error", Outcome.FAILED),
    ("call.in-progress.error-", Outcome.FAILED),
    ("call.ringing.error-", Outcome.FAILED),
    ("call.forwarding.", Outcome.TRANSFER_FAILED),
]


def outcome_for_ended_reason(reason: str | None) -> Outcome | None:
    """Group an ended reason; None when there is no reason yet (the call has not ended)."""
    if not reason:
        return None
    if reason in _EXACT:
        return _EXACT[reason]
    for prefix, outcome in _PREFIXES:
        if reason.startswith(prefix):
            return outcome
    if "error" in reason or "failed" in reason:
        return Outcome.FAILED
    return Outcome.OTHER
