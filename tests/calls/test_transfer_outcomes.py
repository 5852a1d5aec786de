"""Transfer reasons are their own outcomes: a busy person is never a busy customer."""

from __future__ import annotations

import pytest

from calls.enums import Outcome
from calls.outcomes import outcome_for_ended_reason


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        ("assistant-forwarded-call", Outcome.TRANSFERRED),
        ("call.ending.hook-executed-transfer", Outcome.TRANSFERRED),
        ("call.forwarding.operator-busy", Outcome.TRANSFER_FAILED),
        ("call.forwarding.no-answer", Outcome.TRANSFER_FAILED),
        ("call.forwarding.error-something-new", Outcome.TRANSFER_FAILED),
        ("customer-busy", Outcome.BUSY),
        ("customer-did-not-answer", Outcome.NO_ANSWER),
    ],
)
def test_transfer_reasons(reason: str, outcome: Outcome) -> None:
    assert outcome_for_ended_reason(reason) == outcome
