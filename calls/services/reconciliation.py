"""Reconciliation: complete calls whose final events never arrived, from Vapi's GET /call.

Vapi does not retry webhooks by default, so a lost ``ended`` status or end-of-call report
would leave a call "in progress" forever (and a campaign slot taken). A call is due when
it is not ended ``VAPI_RECONCILE_GRACE_MINUTES`` after it should have ended at the latest
(start, or creation, plus the assistant's max duration), or ended without a report for
that long. Only the last ``VAPI_RECONCILE_LOOKBACK_HOURS`` are considered, so a call
Vapi cannot explain is not fetched forever.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calls.enums import CallStatus
from calls.models import Call
from calls.outcomes import outcome_for_ended_reason
from calls.services.call_status import call_apply_status, call_status_advance
from calls.services.processors.calls import as_dict, call_ended_notify, call_link, call_save, parse_iso
from calls.services.processors.reports import call_apply_report
from voiceops.vapi.client import VapiError, VapiNotFound, get_client

log = structlog.get_logger(__name__)

NOT_FOUND_REASON = "not-found"  # Vapi's administrative status for a call it does not know


def _expected_end(call: Call) -> dt.datetime:
    max_duration = settings.VAPI_DEFAULT_MAX_DURATION_SECONDS
    if call.assistant is not None:
        max_duration = call.assistant.max_duration_seconds
    return (call.started_at or call.created_at) + dt.timedelta(seconds=max_duration)


def _is_due(call: Call, *, now: dt.datetime, grace: dt.timedelta) -> bool:
    if call.status == CallStatus.ENDED:
        last = call.ended_at or call.last_event_at or call.updated_at
        return last + grace <= now
    return _expected_end(call) + grace <= now


def calls_due_for_reconciliation(*, now: dt.datetime, limit: int = 100) -> list[Call]:
    grace = dt.timedelta(minutes=settings.VAPI_RECONCILE_GRACE_MINUTES)
    lookback = now - dt.timedelta(hours=settings.VAPI_RECONCILE_LOOKBACK_HOURS)
    candidates = (
        Call.objects.select_related("assistant")
        .filter(created_at__gte=lookback, created_at__lte=now - grace)
        .exclude(status=CallStatus.SCHEDULED)
        .filter(~Q(status=CallStatus.ENDED) | Q(has_final_report=False))
        .order_by("created_at")
    )
    due: list[Call] = []
    for call in candidates.iterator(chunk_size=500):
        if _is_due(call, now=now, grace=grace):
            due.append(call)
            if len(due) >= limit:
                break
    return due


def report_from_vapi_call(data: dict[str, Any]) -> dict[str, Any]:
    """A Vapi Call object reshaped as an end-of-call report, so one code path fills the row."""
    artifact = dict(as_dict(data.get("artifact")))
    if "messages" not in artifact and isinstance(data.get("messages"), list):
        artifact["messages"] = data["messages"]
    return {
        "endedReason": data.get("endedReason"),
        "startedAt": data.get("startedAt"),
        "endedAt": data.get("endedAt"),
        "cost": data.get("cost"),
        "costs": data.get("costs"),
        "costBreakdown": data.get("costBreakdown"),
        "analysis": data.get("analysis"),
        "artifact": artifact,
        "call": data,
    }


def call_reconcile(*, call: Call) -> bool:
    """Fetch one call from Vapi and apply what it says. Returns whether the call is now ended."""
    with structlog.contextvars.bound_contextvars(call_id=call.vapi_id):
        try:
            data = get_client().call_get(call.vapi_id)
        except VapiNotFound:
            data = None
        except VapiError as exc:
            log.warning("call.reconcile_failed", error=str(exc))
            return False
        with transaction.atomic():
            locked = Call.objects.select_for_update().get(pk=call.pk)
            now = timezone.now()
            if data is None:
                # Vapi does not know the call (deleted, or never placed): it will never end otherwise.
                changed = call_apply_status(call=locked, status=CallStatus.ENDED, at=now)
                fields: list[str] = []
                if not locked.ended_reason:
                    locked.ended_reason = NOT_FOUND_REASON
                    outcome = outcome_for_ended_reason(NOT_FOUND_REASON)
                    locked.outcome = outcome.value if outcome else ""
                    locked.ended_at = locked.ended_at or now
                    fields = ["ended_reason", "outcome", "ended_at"]
                locked.has_final_report = True  # nothing more will come; stop fetching it
                call_save(call=locked, fields=[*fields, "has_final_report"])
                if changed:
                    call_ended_notify(call=locked)
                log.warning("call.reconciled_not_found")
                return True
            status = call_apply_vapi(call=locked, data=as_dict(data), now=now)
            log.info("call.reconciled", vapi_status=str(status)[:20])
            return locked.status == CallStatus.ENDED


def call_apply_vapi(*, call: Call, data: dict[str, Any], now: dt.datetime) -> Any:
    """Apply a Vapi Call object to a locked call, as a late end-of-call report would (an ended
    call) or as a status-update would (a live one). Returns Vapi's status."""
    at = parse_iso(data.get("updatedAt")) or now
    fields = call_link(call=call, message={"call": data}, at=at)
    status = data.get("status")
    if status == CallStatus.ENDED:
        fields += call_apply_report(call=call, report=report_from_vapi_call(data), at=at)
    elif isinstance(status, str):
        fields += call_status_advance(call=call, status=status)
    call_save(call=call, fields=[*fields, "last_event_at"])
    return status


def calls_reconcile(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Reconcile every due call (bounded); returns how many are ended afterwards."""
    ended = 0
    for call in calls_due_for_reconciliation(now=now or timezone.now(), limit=limit):
        if call_reconcile(call=call):
            ended += 1
    return ended
