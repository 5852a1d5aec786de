"""status-update: move the call forward, fill what an ended status tells (CONTRACT §4.4)."""

from __future__ import annotations

from typing import Any

import structlog

from calls.enums import CallStatus
from calls.models import Call
from calls.outcomes import outcome_for_ended_reason
from calls.services.call_status import call_status_advance
from calls.services.processors.calls import as_dict, as_text, call_ended_notify, parse_iso

log = structlog.get_logger(__name__)


def call_apply_status_update(*, call: Call, message: dict[str, Any], at: Any) -> list[str]:
    """Apply one status-update to a locked call. Late or repeated statuses change nothing.

    Once the end-of-call report is in, it is the final truth: an ``ended`` status that
    arrives afterwards does not touch the reason, outcome or times it set.
    """
    status = message.get("status")
    if not isinstance(status, str) or CallStatus.rank(status) < 0:
        log.info("call.status_unknown", status=as_text(status, max_length=40))
        return []
    fields = call_status_advance(call=call, status=status)
    changed = bool(fields)
    snapshot = as_dict(message.get("call"))
    if status == CallStatus.IN_PROGRESS and call.started_at is None:
        call.started_at = parse_iso(snapshot.get("startedAt")) or at
        fields.append("started_at")
    if status == CallStatus.ENDED and not call.has_final_report:
        reason = as_text(message.get("endedReason") or snapshot.get("endedReason"), max_length=200)
        if reason and not call.ended_reason:
            call.ended_reason = reason
            outcome = outcome_for_ended_reason(reason)
            call.outcome = outcome.value if outcome else ""
            fields += ["ended_reason", "outcome"]
        if call.ended_at is None:
            call.ended_at = parse_iso(snapshot.get("endedAt")) or at
            fields.append("ended_at")
        if call.started_at and call.ended_at and call.duration_seconds is None:
            call.duration_seconds = max(0.0, (call.ended_at - call.started_at).total_seconds())
            fields.append("duration_seconds")
    if changed and status == CallStatus.ENDED:
        call_ended_notify(call=call)
    return fields
