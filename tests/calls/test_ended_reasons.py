"""Every endedReason in the official SDK is mapped deliberately to an outcome group."""

from __future__ import annotations

import typing

import pytest
from vapi.types.call_ended_reason import CallEndedReason
from vapi.types.server_message_end_of_call_report_ended_reason import ServerMessageEndOfCallReportEndedReason
from vapi.types.server_message_status_update_ended_reason import ServerMessageStatusUpdateEndedReason

from calls.enums import Outcome
from calls.outcomes import ended_reason_mapping, outcome_for_ended_reason


def _values(alias: object) -> list[str]:
    literal = typing.get_args(alias)[0]  # Union[Literal[...], Any]
    return list(typing.get_args(literal))


SDK_REASONS = sorted(
    set(_values(CallEndedReason))
    | set(_values(ServerMessageEndOfCallReportEndedReason))
    | set(_values(ServerMessageStatusUpdateEndedReason))
)


def test_the_sdk_list_is_the_one_we_walk():
    assert len(SDK_REASONS) >= 600 and "voicemail" in SDK_REASONS


def test_every_sdk_ended_reason_is_mapped_deliberately():
    unmapped = [reason for reason in SDK_REASONS if ended_reason_mapping(reason) is None]
    assert unmapped == [], f"Map these endedReason values in calls/outcomes.py: {unmapped}"


def test_no_sdk_reason_falls_to_other():
    assert [r for r in SDK_REASONS if outcome_for_ended_reason(r) == Outcome.OTHER] == []


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        ("voicemail", Outcome.VOICEMAIL),
        ("customer-ended-call", Outcome.COMPLETED),
        ("silence-timed-out", Outcome.COMPLETED),
        ("customer-busy", Outcome.BUSY),
        ("customer-did-not-answer", Outcome.NO_ANSWER),
        ("call.start.error-subscription-concurrency-limit-reached", Outcome.REFUSED),
        ("call.start.error-vapifault-worker-not-available", Outcome.REFUSED),
        ("call.start.error-subscription-insufficient-credits", Outcome.FAILED),
        ("twilio-reported-customer-misdialed", Outcome.INVALID_NUMBER),
        ("pipeline-error-openai-llm-failed", Outcome.FAILED),
        ("manually-canceled", Outcome.CANCELLED),
    ],
)
def test_key_reasons(reason, outcome):
    assert reason in SDK_REASONS
    assert outcome_for_ended_reason(reason) == outcome


def test_an_unknown_future_reason_is_kept_and_classified_not_rejected():
    assert ended_reason_mapping("call.start.error-brand-new") is None
    assert outcome_for_ended_reason("call.start.error-brand-new") == Outcome.FAILED
    assert outcome_for_ended_reason("something-new") == Outcome.OTHER
