"""Applying Vapi call statuses: forward only, whatever order events arrive in."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from calls.enums import CallStatus
from calls.models import Call


def status_is_forward(*, current: str, new: str) -> bool:
    """True when ``new`` is later than ``current`` in queued < ringing < in-progress < forwarding < ended."""
    return CallStatus.rank(new) > CallStatus.rank(current)


def call_apply_status(*, call: Call, status: str, at: dt.datetime | None = None) -> bool:
    """Move ``call`` to ``status`` if that is forward; a late or repeated status changes nothing.

    Uses a conditional UPDATE so two workers applying statuses of one call at once can
    never move it backwards (the row lock orders them; the WHERE drops the older one).
    Returns whether the status changed.
    """
    if CallStatus.rank(status) < 0:
        return False
    earlier = [s for s in CallStatus.values if CallStatus.rank(s) < CallStatus.rank(status)]
    with transaction.atomic():
        updated = Call.objects.filter(pk=call.pk, status__in=earlier).update(
            status=status, updated_at=timezone.now(), last_event_at=at or timezone.now()
        )
    if updated:
        call.status = status
    return bool(updated)


def call_status_advance(*, call: Call, status: str) -> list[str]:
    """Move a call read under its row lock forward to ``status``, in memory; returns the fields to save.

    The processors hold the row (``call_lock``: SELECT ... FOR UPDATE), so the status they read
    is the current one and no other worker can move it meanwhile. The change is saved with the
    event's other fields in one UPDATE (``call_save``) instead of a conditional UPDATE of its
    own in a savepoint: three round trips fewer for each status-update the ledger applies.
    """
    if not status_is_forward(current=call.status, new=status):
        return []
    call.status = status
    return ["status"]
