"""Seams between the webhook processors and the campaign dispatcher.

The processors call these after the transaction that applied an event commits; the
campaign area fills them in. Kept as plain functions (not signals) so the flow is
greppable from the call site.
"""

from __future__ import annotations

from calls.campaigns.services.ended import call_ended_apply
from calls.models import Call


def on_call_ended(*, call: Call) -> None:
    """A call reached ``ended`` or got its end-of-call report: apply campaign outcomes, refill slots.

    Idempotent (the attempt moves to ``ended`` once); a later report re-checks the spend limit
    because the cost usually arrives with it. Dispatch of the freed slot is enqueued on commit.
    """
    call_ended_apply(call=call)
