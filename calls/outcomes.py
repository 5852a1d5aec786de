"""Vapi's ``endedReason`` strings mapped to our outcome groups (CONTRACT §8.2): the one mapping module.

Every value of the SDK's ``CallEndedReason`` is mapped deliberately: by name below, or by one of
the named error families (``FAMILIES``: Vapi's and its providers' mid-call faults, hundreds of
``<provider>-<error>`` values). ``tests/calls/test_ended_reasons.py`` walks the SDK's whole list
and fails for a value that is neither, so a new reason is decided on, never silently "other".
At run time an unknown value is still classified by prefix or falls to OTHER; it is never
rejected, and the verbatim reason is always stored.
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
    # The conversation happened; only the transfer at its end failed (the campaign's reach rules decide).
    "call.in-progress.error-warm-transfer-max-duration",
    "call.in-progress.error-warm-transfer-assistant-cancelled",
    "call.in-progress.error-warm-transfer-silence-timeout",
    "call.in-progress.error-warm-transfer-microphone-timeout",
    "call.in-progress.error-transfer-failed",
)
_group(Outcome.BUSY, "customer-busy")
# The person we transferred to was busy or did not answer: not the customer, never "busy".
_group(Outcome.TRANSFERRED, "assistant-forwarded-call", "call.ending.hook-executed-transfer")
_group(Outcome.TRANSFER_FAILED, "call.forwarding.operator-busy", "call.forwarding.no-answer")
_group(
    Outcome.NO_ANSWER,
    "customer-did-not-answer",
    "call.ringing.sip-inbound-caller-hungup-before-call-connect",
    # A hook on the ringing phase (no answer) spoke or transferred: the customer was not reached.
    "call.ringing.hook-executed-say",
    "call.ringing.hook-executed-transfer",
)
_group(Outcome.VOICEMAIL, "voicemail")
# Vapi could not start the call for capacity reasons of its own: nobody's phone rang, and the
# campaign does not count it as an attempt (calls/campaigns/services/refusals.py).
_group(
    Outcome.REFUSED,
    "call.start.error-subscription-concurrency-limit-reached",
    "call.start.error-vapifault-worker-not-available",
)
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
    "phone-call-provider-bypass-enabled-but-no-call-received",
    "customer-did-not-give-microphone-permission",
    # Call start failures: account, configuration or Vapi faults (retried under the failed policy).
    "call.start.error-vapifault-get-org",
    "call.start.error-vapifault-get-subscription",
    "call.start.error-vapifault-database-error",
    "call.start.error-get-assistant",
    "call.start.error-get-phone-number",
    "call.start.error-get-customer",
    "call.start.error-get-resources-validation",
    "call.start.error-get-transport",
    "call.start.error-vapi-number-outbound-daily-limit",
    "call.start.error-subscription-wallet-does-not-exist",
    "call.start.error-fraud-check-failed",
    "call.start.error-subscription-frozen",
    "call.start.error-subscription-insufficient-credits",
    "call.start.error-subscription-upgrade-failed",
    "call.start.error-enterprise-feature-not-available-recording-consent",
    "call.start.assistant-version-error-validation",
    "call.start.squad-version-error-validation",
    # Mid-call errors of the pipeline or configuration: the conversation broke down.
    "call.in-progress.error-pipeline-no-available-llm-model",
    "call.in-progress.error-pipeline-ws-model-connection-failed",
    "call.in-progress.error-configfault-model-unsupported-in-squad",
    "call.in-progress.error-configfault-transport-unsupported-for-model",
    "call.in-progress.error-assistant-did-not-receive-customer-audio",
)

# Error families with hundreds of members (``<provider>-<failure>``), each mapped as a whole:
# Vapi's faults and its providers' faults mid-call, and the legacy ``pipeline-error-*`` names.
FAMILIES: list[tuple[str, Outcome]] = [
    ("call.in-progress.error-vapifault-", Outcome.FAILED),
    ("call.in-progress.error-providerfault-", Outcome.FAILED),
    ("pipeline-error-", Outcome.FAILED),
]

_PREFIXES: list[tuple[str, Outcome]] = [
    ("call.start.", Outcome.FAILED),
    ("pipeline-error", Outcome.FAILED),
    ("call.in-progress.error-", Outcome.FAILED),
    ("call.ringing.error-", Outcome.FAILED),
    ("call.forwarding.", Outcome.TRANSFER_FAILED),
]


def ended_reason_mapping(reason: str) -> Outcome | None:
    """The deliberate mapping of a reason (by name or family); None when nobody decided on it yet."""
    if reason in _EXACT:
        return _EXACT[reason]
    for prefix, outcome in FAMILIES:
        if reason.startswith(prefix):
            return outcome
    return None


def outcome_for_ended_reason(reason: str | None) -> Outcome | None:
    """Group an ended reason; None when there is no reason yet (the call has not ended)."""
    if not reason:
        return None
    mapped = ended_reason_mapping(reason)
    if mapped is not None:
        return mapped
    for prefix, outcome in _PREFIXES:
        if reason.startswith(prefix):
            return outcome
    if "error" in reason or "failed" in reason:
        return Outcome.FAILED
    return Outcome.OTHER
