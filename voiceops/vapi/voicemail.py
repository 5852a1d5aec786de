"""Vapi's voicemail detection plan (SDK ``CreateAssistantDtoVoicemailDetection``): shape and checks.

Vapi leaves detection off unless the assistant (or the call's ``assistantOverrides``) carries a
plan; without one an answering machine is just a short call ending ``customer-ended-call`` or
``silence-timed-out``. The plan is ``"off"`` or an object keyed by ``provider``; the fields each
provider accepts are copied from the SDK models (``tests/assistants/test_voicemail_plan.py``
compares them, so an SDK upgrade shows up there).
"""

from __future__ import annotations

from typing import Any

# SDK: GoogleVoicemailDetectionPlan, OpenAiVoicemailDetectionPlan, TwilioVoicemailDetectionPlan,
# VapiVoicemailDetectionPlan.
_BEEP_PLAN_FIELDS = ("provider", "beepMaxAwaitSeconds", "backoffPlan", "type")
PLAN_FIELDS: dict[str, tuple[str, ...]] = {
    "vapi": _BEEP_PLAN_FIELDS,
    "google": _BEEP_PLAN_FIELDS,
    "openai": _BEEP_PLAN_FIELDS,
    "twilio": (
        "provider",
        "voicemailDetectionTypes",
        "enabled",
        "machineDetectionTimeout",
        "machineDetectionSpeechThreshold",
        "machineDetectionSpeechEndThreshold",
        "machineDetectionSilenceTimeout",
    ),
}
DETECTION_TYPES = ("audio", "transcript")
BACKOFF_FIELDS = ("startAtSeconds", "frequencySeconds", "maxRetries")
TWILIO_TYPES = (
    "machine_start",
    "human",
    "fax",
    "unknown",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
)

# What campaign calls carry when their assistant sets nothing: Vapi's own detector, audio mode,
# waiting up to 30 s for the beep before the voicemail message is spoken (the SDK's defaults).
DEFAULT_PLAN: dict[str, Any] = {"provider": "vapi", "type": "audio", "beepMaxAwaitSeconds": 30}


def is_off(plan: Any) -> bool:
    return plan == "off" or (isinstance(plan, dict) and plan.get("provider") == "off")


def _number(value: Any, low: float, high: float) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and low <= value <= high


def voicemail_plan_errors(plan: Any) -> list[str]:
    """Problems with a plan as Vapi would see them; ``{}`` (use the default) and ``"off"`` are valid."""
    if plan in ({}, None) or is_off(plan):
        return []
    if not isinstance(plan, dict):
        return ['Use "off" or an object with a "provider" (vapi, google, openai or twilio).']
    provider = plan.get("provider")
    if provider not in PLAN_FIELDS:
        return [f"Unknown voicemail detection provider {provider!r}; use one of: {', '.join(PLAN_FIELDS)}."]
    errors = [
        f"'{key}' is not an option of the {provider} voicemail detection plan."
        for key in plan
        if key not in PLAN_FIELDS[provider]
    ]
    if "type" in plan and plan["type"] not in DETECTION_TYPES:
        errors.append(f"'type' must be one of: {', '.join(DETECTION_TYPES)}.")
    if "beepMaxAwaitSeconds" in plan and not _number(plan["beepMaxAwaitSeconds"], 0, 60):
        errors.append("'beepMaxAwaitSeconds' must be a number of seconds between 0 and 60.")
    backoff = plan.get("backoffPlan")
    if backoff is not None:
        if not isinstance(backoff, dict):
            errors.append("'backoffPlan' must be an object.")
        else:
            errors += [
                f"'backoffPlan.{key}' is not an option (use {', '.join(BACKOFF_FIELDS)})."
                for key in backoff
                if key not in BACKOFF_FIELDS
            ]
            errors += [
                f"'backoffPlan.{key}' must be a non-negative number."
                for key in BACKOFF_FIELDS
                if key in backoff and not _number(backoff[key], 0, 3600)
            ]
    types = plan.get("voicemailDetectionTypes")
    if types is not None and (not isinstance(types, list) or any(t not in TWILIO_TYPES for t in types)):
        errors.append(f"'voicemailDetectionTypes' must be a list of: {', '.join(TWILIO_TYPES)}.")
    if "enabled" in plan and not isinstance(plan["enabled"], bool):
        errors.append("'enabled' must be true or false.")
    for key in PLAN_FIELDS["twilio"][3:]:
        if key in plan and not _number(plan[key], 0, 60_000):
            errors.append(f"'{key}' must be a non-negative number.")
    return errors


def voicemail_plan_for_payload(plan: Any) -> Any:
    """The value for ``voicemailDetection``; None when the assistant leaves Vapi's default."""
    if plan in ({}, None):
        return None
    return "off" if is_off(plan) else dict(plan)


def voicemail_plan_for_campaign(plan: Any) -> Any:
    """What a campaign call sends: the assistant's plan, or detection on (DEFAULT_PLAN)."""
    configured = voicemail_plan_for_payload(plan)
    return dict(DEFAULT_PLAN) if configured is None else configured


def voicemail_detection_requested(plan: Any) -> bool:
    """Vapi detects machines only when a plan is set and not off (twilio: unless ``enabled`` false)."""
    if not isinstance(plan, dict) or is_off(plan) or plan.get("provider") not in PLAN_FIELDS:
        return False
    return plan.get("enabled", True) is not False
