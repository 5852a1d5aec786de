"""Discovery: record calls Vapi has that voiceops never stored, from Vapi's call list.

Reconciliation (``reconciliation``) completes calls we know. A call whose every delivery was
lost (a short call inside a database outage: its assistant-request answered with a spoken
refusal, every later event answered 503 until Vapi's retries gave up) has no row at all, so
nothing would ever fetch it. Discovery lists ``GET /call`` by creation time and creates the
missing rows from Vapi's Call object through the same code a late end-of-call report uses.

Windows: ``[scanned_until - overlap, now - grace)``, at most ``VAPI_RECONCILE_LOOKBACK_HOURS``
back. The grace (``VAPI_RECONCILE_GRACE_MINUTES``) leaves a live call's webhooks time to be
processed, so only calls no webhook recorded are "recovered"; the overlap re-reads the end of
the previous window for rows Vapi lists late. A window is paged newest first (Vapi's order)
by moving its upper bound down to the oldest ``createdAt`` of the page; the position is saved
after every page, so a Vapi error or a killed worker resumes at the same page next tick.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calls.campaigns.services.dialing import attempt_accept
from calls.enums import AttemptState, CallStatus, Direction
from calls.models import Call, CallDiscoveryCursor, DialAttempt
from calls.services.processors.calls import DIRECTION_BY_CALL_TYPE, as_text, parse_iso
from calls.services.reconciliation import call_apply_vapi
from tools.services.linking import tool_records_link_call
from voiceops.vapi.client import VapiError, get_client

log = structlog.get_logger(__name__)

CURSOR_NAME = "calls"
WAITING_ATTEMPT_STATES = (AttemptState.REQUESTING, AttemptState.UNKNOWN)


def vapi_time(moment: dt.datetime) -> str:
    """Vapi's timestamp format (UTC, milliseconds, Z): bounds compare exactly with its createdAt."""
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _lease_seconds() -> float:
    """Long enough for one page with the client's retries; renewed before every page, so a
    worker killed mid-run holds discovery up for about two minutes, not a whole run."""
    timeouts = settings.VAPI_TIMEOUT_CONNECT + settings.VAPI_TIMEOUT_READ
    return timeouts * (settings.VAPI_RETRIES + 1) + 30


def _lease(*, now: dt.datetime) -> CallDiscoveryCursor | None:
    """The cursor, leased to this run; None while another run holds it."""
    CallDiscoveryCursor.objects.get_or_create(name=CURSOR_NAME)
    taken = (
        CallDiscoveryCursor.objects.filter(name=CURSOR_NAME)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .update(leased_until=now + dt.timedelta(seconds=_lease_seconds()))
    )
    return CallDiscoveryCursor.objects.get(name=CURSOR_NAME) if taken else None


def _open_window(cursor: CallDiscoveryCursor, *, now: dt.datetime) -> bool:
    """Start the next window; False when there is nothing new to scan yet."""
    end = now - dt.timedelta(minutes=settings.VAPI_RECONCILE_GRACE_MINUTES)
    start = now - dt.timedelta(hours=settings.VAPI_RECONCILE_LOOKBACK_HOURS)
    if cursor.scanned_until is not None:
        overlap = dt.timedelta(minutes=settings.VAPI_DISCOVER_OVERLAP_MINUTES)
        start = max(start, cursor.scanned_until - overlap)
        if cursor.scanned_until >= end:
            return False
    if start >= end:
        return False
    cursor.window_start, cursor.window_end = start, end
    cursor.page_before, cursor.page_before_inclusive = None, False
    return True


def _page_params(cursor: CallDiscoveryCursor, *, limit: int) -> dict[str, Any]:
    assert cursor.window_start is not None and cursor.window_end is not None
    params: dict[str, Any] = {"limit": limit, "createdAtGe": vapi_time(cursor.window_start)}
    if cursor.page_before is None:
        params["createdAtLt"] = vapi_time(cursor.window_end)
    elif cursor.page_before_inclusive:
        params["createdAtLe"] = vapi_time(cursor.page_before)
    else:
        params["createdAtLt"] = vapi_time(cursor.page_before)
    return params


def _advance(cursor: CallDiscoveryCursor, *, page: list[dict[str, Any]], full: bool) -> dt.datetime | None:
    """Move past a page: close the window after a short page, else page beyond it.

    Newest first (Vapi's order), the next page ends at the page's oldest moment, inclusive:
    calls sharing that millisecond may straddle the boundary (those seen are known by then).
    When a whole page shares one moment, paging could not move: that moment is returned,
    unchanged, for the caller to read whole before the bound becomes strict. Should Vapi answer
    oldest first, the window's start moves up instead.
    """
    created = [c for c in (parse_iso(item.get("createdAt")) for item in page) if c is not None]
    if not full or not created:
        cursor.scanned_until = cursor.window_end
        cursor.window_start = cursor.window_end = cursor.page_before = None
        cursor.page_before_inclusive = False
        return None
    if created[0] < created[-1]:
        assert cursor.window_start is not None
        cursor.window_start = max(max(created), cursor.window_start + dt.timedelta(milliseconds=1))
        return None
    oldest = min(created)
    if cursor.page_before is not None and oldest >= cursor.page_before:
        return oldest
    cursor.page_before, cursor.page_before_inclusive = oldest, True
    return None


def _waiting_attempt_id(data: dict[str, Any]) -> int | None:
    """Our dial attempt still waiting for this call (its POST answer lost), by the name we sent."""
    attempt_id = DialAttempt.id_from_vapi_name(data.get("name"))
    if attempt_id is None:
        return None
    attempt = DialAttempt.objects.filter(pk=attempt_id).values_list("state", flat=True).first()
    if attempt is None:
        return None
    if attempt not in WAITING_ATTEMPT_STATES:
        # Decided without this call (lost, abandoned ...): record the call, leave the recipient alone.
        log.warning("call.discovered_for_closed_attempt", attempt_id=attempt_id, attempt_state=attempt)
        return None
    return attempt_id


def call_discover(*, data: dict[str, Any], now: dt.datetime) -> bool:
    """Create the Call Vapi describes when no row has it; returns whether this run recovered it.

    A call of one of our dial attempts is first handed to ``attempt_accept`` (what the attempt's
    own reconciliation does when it finds the call), so the attempt, recipient and campaign links
    are set as usual; it is passed as ``queued`` so the end is applied once, below, with the report.
    """
    vapi_id = as_text(data.get("id"), max_length=64)
    if not vapi_id:
        return False
    attempt_id = _waiting_attempt_id(data)
    if attempt_id is not None:
        attempt_accept(attempt_id=attempt_id, call_data={**data, "status": CallStatus.QUEUED})
    call_type = data.get("type")
    direction = (
        DIRECTION_BY_CALL_TYPE.get(call_type, Direction.OUTBOUND)
        if isinstance(call_type, str)
        else Direction.OUTBOUND
    )
    with structlog.contextvars.bound_contextvars(call_id=vapi_id), transaction.atomic():
        call, created = Call.objects.get_or_create(
            vapi_id=vapi_id, defaults={"direction": direction, "recovered_at": now}
        )
        locked = Call.objects.select_for_update().get(pk=call.pk)
        if not created and (attempt_id is None or locked.recovered_at or locked.last_event_at):
            return False  # stored meanwhile: by a webhook, or by another tick
        if created:
            tool_records_link_call(call=locked)
        status = call_apply_vapi(call=locked, data=data, now=now)
        if locked.recovered_at is None:
            locked.recovered_at = now
            locked.save(update_fields=["recovered_at", "updated_at"])
        log.warning("call.recovered", vapi_status=str(status)[:20], attempt_id=attempt_id)
    return True


def _discover_page(cursor: CallDiscoveryCursor, page: list[dict[str, Any]], *, now: dt.datetime) -> int:
    ids = [str(c["id"]) for c in page]
    known = set(Call.objects.filter(vapi_id__in=ids).values_list("vapi_id", flat=True))
    recovered = sum(1 for d in page if str(d["id"]) not in known and call_discover(data=d, now=now))
    cursor.calls_recovered += recovered
    return recovered


def _list(params: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """(how many items Vapi returned, those that are Call objects with an id)."""
    answer = get_client().call_list(**params)
    raw = answer if isinstance(answer, list) else []
    return len(raw), [c for c in raw if isinstance(c, dict) and isinstance(c.get("id"), str) and c["id"]]


def calls_discover(*, now: dt.datetime | None = None) -> int:
    """One bounded discovery tick; returns how many calls it recovered.

    The cursor is saved after every page; on a Vapi error (after the client's own retries) the
    tick stops where it is and the next one asks for the same page again.
    """
    if not settings.VAPI_DISCOVER_ENABLED:
        return 0
    now = now or timezone.now()
    cursor = _lease(now=now)
    if cursor is None:
        log.info("call.discover.busy")
        return 0
    limit = settings.VAPI_DISCOVER_PAGE_SIZE
    recovered = 0
    try:
        for _ in range(settings.VAPI_DISCOVER_MAX_PAGES):
            if cursor.window_start is None:
                if not _open_window(cursor, now=now):
                    break
                cursor.save()  # the window is kept whatever happens to its first page
            cursor.leased_until = timezone.now() + dt.timedelta(seconds=_lease_seconds())
            cursor.save(update_fields=["leased_until"])
            count, page = _list(_page_params(cursor, limit=limit))
            recovered += _discover_page(cursor, page, now=now)
            cursor.pages_scanned += 1
            stuck = _advance(cursor, page=page, full=count >= limit)
            if stuck is not None:
                # A whole page in one millisecond: read all of that moment, then page below it.
                moment = vapi_time(stuck)
                _, crowd = _list({"limit": 1000, "createdAtGe": moment, "createdAtLe": moment})
                recovered += _discover_page(cursor, crowd, now=now)
                cursor.page_before, cursor.page_before_inclusive = stuck, False
            cursor.last_error = ""
            cursor.save()
            if count < limit:
                break  # the next window would only re-read the overlap: leave it to the next tick
    except VapiError as exc:
        cursor.last_error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("call.discover.failed", error=cursor.last_error)
    finally:
        # Saved as of the last page read: a failed page is asked for again next tick.
        CallDiscoveryCursor.objects.filter(pk=cursor.pk).update(
            leased_until=None, last_error=cursor.last_error
        )
    if recovered:
        log.warning("call.discover.recovered", recovered=recovered)
    return recovered
