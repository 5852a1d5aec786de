"""The webhook ledger: store every authenticated message first, process it later, exactly once.

- ``webhook_event_record`` is the hot path: ONE ``INSERT ... ON CONFLICT DO NOTHING``
  (the dedupe key is unique), so a duplicate delivery costs the same single statement
  and never raises; with group commit (the default) many requests share one such INSERT.
  In notify dispatch (the default) the same statement wakes the ledger worker.
- ``webhook_event_enqueue`` (celery dispatch only) publishes one Celery message after commit. When Redis is
  down the publish fails fast (short broker timeouts in settings), is swallowed, and
  publishing pauses for a few seconds so a dead broker does not slow every webhook; the
  event stays ``received`` and the sweeper processes it.
- ``webhook_event_process`` claims the row with ``FOR UPDATE SKIP LOCKED`` (a second
  worker holding a duplicate task skips it), applies it in the same transaction, and
  records the outcome: processed, or (after rolling back what it applied) the error and
  traceback (failed after ``VAPI_WEBHOOK_MAX_ATTEMPTS`` attempts).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from calls.enums import EventState
from calls.models import WebhookEvent
from calls.services.processors import has_processor, message_process
from voiceops import metrics
from voiceops.sqlbatch import Pending, Prepared, SqlBatch, prepared_call, prepared_fetch
from voiceops.vapi.messages import STATUS_UPDATE, EnvelopeError, ServerMessage, parse_server_message

log = structlog.get_logger(__name__)

# The table name comes from the model; every value is a bound parameter.
_INSERT_SQL = (
    "INSERT INTO " + WebhookEvent._meta.db_table + " (message_type, vapi_call_id, body, headers, received_at,"  # noqa: S608
    " message_timestamp, dedupe_key, state, attempts, error, traceback, response, processed_at)"
    " VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s, %s, 0, '', '', %s::jsonb, %s)"
    " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"
)
NOTIFY_CHANNEL = "voiceops_webhook_events"
# The NOTIFY's payload is "ended" for a call's ended status, "" otherwise: a ledger worker in the
# middle of a backlog looks at the queue again after the event in hand (``ended_arrived``), so
# the status that frees a campaign's slot waits behind one event, not PICK of them.
NOTIFY_ENDED = "ended"
# The same test on a stored row's raw body (compact or spaced JSON), for the queue query
# (``webhook_events_pending_ids``): LIKE patterns.
ENDED_BODY = ('%"status":"ended"%', '%"status": "ended"%')
# Same statement, plus a NOTIFY that Postgres delivers on commit: still one round trip.
_INSERT_NOTIFY_SQL = f"WITH ins AS ({_INSERT_SQL}) SELECT id, pg_notify('{NOTIFY_CHANNEL}', %s) FROM ins"  # noqa: S608
# Planned once per connection (``voiceops.sqlbatch``): the rows outside group commit (request/
# response messages, group commit off) and the answers are on the path a caller waits on.
_INSERT = Prepared("ledger_insert", _INSERT_SQL)
_INSERT_NOTIFY = Prepared("ledger_insert_notify", _INSERT_NOTIFY_SQL)

_broker_lock = threading.Lock()
_broker_paused_until = 0.0
_counted: Counter[str] = Counter()
_counted_lock = threading.Lock()


def ledger_row(
    *,
    parsed: ServerMessage,
    body: bytes,
    headers: dict[str, str],
    state: str = EventState.RECEIVED,
    response: dict[str, Any] | None = None,
) -> list[Any]:
    """The bound parameters of one ledger row, in ``_INSERT_SQL`` order."""
    now = timezone.now()
    safe_headers = {k: v.replace("\x00", "") for k, v in headers.items()}
    return [
        parsed.type,
        parsed.call_id,
        body.decode("utf-8"),
        json.dumps(safe_headers),
        now,
        parsed.timestamp,
        parsed.dedupe_key(body),
        state,
        None if response is None else json.dumps(response),
        now if state != EventState.RECEIVED else None,
    ]


def notify_payload(parsed: ServerMessage) -> str:
    """What the INSERT's NOTIFY says about the row: ``NOTIFY_ENDED`` for a call's ended status."""
    ended = parsed.type == STATUS_UPDATE and parsed.message.get("status") == "ended"
    return NOTIFY_ENDED if ended else ""


def webhook_event_record(
    *,
    parsed: ServerMessage,
    body: bytes,
    headers: dict[str, str],
    state: str = EventState.RECEIVED,
    response: dict[str, Any] | None = None,
    wake_worker: bool = True,
) -> int | None:
    """Insert the ledger row; return its id, or None when this delivery is already stored.

    With ``VAPI_WEBHOOK_GROUP_COMMIT`` (and outside a transaction) the row joins the
    process's next group commit: one multi-row INSERT and one commit for many requests.
    ``wake_worker=False`` for a row answered in the same transaction (nothing for the ledger
    worker to do, so no NOTIFY).
    """
    row = ledger_row(parsed=parsed, body=body, headers=headers, state=state, response=response)
    notify = wake_worker and state == EventState.RECEIVED and settings.VAPI_WEBHOOK_DISPATCH == "notify"
    payload = notify_payload(parsed) if notify else None
    if settings.VAPI_WEBHOOK_GROUP_COMMIT and not connection.in_atomic_block:
        from calls.services.group_commit import group_insert

        return group_insert(row=row, notify=payload)
    if payload is None:
        fetched = prepared_fetch(_INSERT, row)
    else:
        fetched = prepared_fetch(_INSERT_NOTIFY, [*row, payload])
    return fetched[0][0] if fetched else None


_ANSWERED = Prepared(
    "ledger_answered",
    "UPDATE " + WebhookEvent._meta.db_table + " SET response = %s::jsonb, state = %s,"  # noqa: S608
    " processed_at = %s, attempts = 1 WHERE id = %s",
)


def webhook_event_answered(
    *, event_id: int | None, answer: dict[str, Any], before: Sequence[Pending] = ()
) -> None:
    """Keep what a request/response message was answered, so a duplicate gets the same answer.

    One plain UPDATE: it runs on the path a caller waits on, where the ORM's compile step
    costs more than the statement. ``before``: SQL the answerer left to send first, in the
    same round trip (the tool dispatcher's recorded answers). No ``event_id``: only those.
    """
    batch = SqlBatch(before)
    if event_id is not None:
        batch.add(_ANSWERED, [json.dumps(answer), EventState.PROCESSED, timezone.now(), event_id])
    batch.flush()


def webhook_event_count(*, message_type: str) -> None:
    """High-volume messages in "count" mode: counted per process, not stored."""
    with _counted_lock:
        _counted[message_type] += 1


def webhook_event_counts() -> dict[str, int]:
    with _counted_lock:
        return dict(_counted)


def _publish(event_id: int) -> None:
    global _broker_paused_until
    from calls.tasks import process_webhook_event

    if time.monotonic() < _broker_paused_until:
        log.info("webhook.enqueue_skipped", event_id=event_id, reason="broker_paused")
        return
    try:
        process_webhook_event.apply_async(args=[event_id], retry=False)
    except (KombuOperationalError, ConnectionError, OSError, TimeoutError) as exc:
        with _broker_lock:
            _broker_paused_until = time.monotonic() + settings.VAPI_WEBHOOK_BROKER_BACKOFF_SECONDS
        log.warning("webhook.enqueue_failed", event_id=event_id, error=type(exc).__name__)
    except Exception:  # noqa: BLE001 - the event is stored; the sweeper is the safety net
        log.exception("webhook.enqueue_error", event_id=event_id)


def webhook_event_enqueue(*, event_id: int) -> None:
    """Publish processing of ``event_id`` once the row is committed; never raises.

    In "notify" dispatch the INSERT already woke the ledger worker: nothing to publish.
    """
    if settings.VAPI_WEBHOOK_DISPATCH == "celery":
        transaction.on_commit(lambda: _publish(event_id))


def broker_pause_reset() -> None:
    """Forget a publish failure (tests, or an operator who fixed Redis)."""
    global _broker_paused_until
    with _broker_lock:
        _broker_paused_until = 0.0


def _record_failure(event: WebhookEvent, exc: BaseException) -> None:
    event.attempts += 1
    event.error = f"{type(exc).__name__}: {exc}"[:2000]
    event.traceback = "".join(traceback.format_exception(exc))[-20000:]
    if event.attempts >= settings.VAPI_WEBHOOK_MAX_ATTEMPTS:
        event.state = EventState.FAILED
    event.save(update_fields=["attempts", "error", "traceback", "state"])
    log.warning("webhook.process_failed", attempts=event.attempts, state=event.state, error=event.error)


class _ProcessingFailed(Exception):
    """Carries a processing error out of the event's transaction, so that it rolls back whole."""


# The ledger's per-event statements, planned once per connection: the claim reads only what
# processing uses (the rest of the row stays deferred), and the mark is one UPDATE.
_CLAIMED_FIELDS = [
    f.attname
    for f in WebhookEvent._meta.concrete_fields
    if f.attname in {"id", "message_type", "vapi_call_id", "body", "state", "attempts"}
]
_CLAIM = Prepared(
    "ledger_claim",
    f"SELECT {', '.join(_CLAIMED_FIELDS)} FROM {WebhookEvent._meta.db_table}"  # noqa: S608
    " WHERE id = %(id)s AND state = %(state)s FOR UPDATE SKIP LOCKED",
)
_MARK = Prepared(
    "ledger_mark",
    f"UPDATE {WebhookEvent._meta.db_table} SET attempts = attempts + 1, state = %(state)s,"  # noqa: S608
    " processed_at = %(at)s, error = '', traceback = '' WHERE id = %(id)s",
)


def _claimed(event_id: int) -> WebhookEvent | None:
    rows = prepared_fetch(_CLAIM, {"id": event_id, "state": EventState.RECEIVED})
    return WebhookEvent.from_db(connection.alias, _CLAIMED_FIELDS, rows[0]) if rows else None


def _bound(event: WebhookEvent) -> Any:
    return structlog.contextvars.bound_contextvars(
        event_id=event.pk, call_id=event.vapi_call_id, message_type=event.message_type
    )


def webhook_event_process(*, event_id: int) -> str | None:
    """Apply one stored event. Returns the resulting state, None when it was not claimable.

    Not claimable means already processed/ignored/failed, or locked by another worker
    right now (SKIP LOCKED): either way there is nothing for this worker to do.

    The event is applied in the claim's transaction, without a savepoint of its own (two
    round trips for every event): a failure rolls the transaction back whole, and the
    failure is then recorded on the row in a transaction of its own.
    """
    try:
        with transaction.atomic():
            event = _claimed(event_id)
            if event is None:
                return None
            with _bound(event):
                return _apply(event)
    except _ProcessingFailed as failed:
        error = failed.__cause__ or failed
    with transaction.atomic():
        event = _claimed(event_id)
        if event is None:
            return None  # another worker took it meanwhile
        with _bound(event):
            _record_failure(event, error)
            metrics.event_processed(
                event.message_type, "error" if event.state == EventState.RECEIVED else event.state
            )
            return event.state


def _apply(event: WebhookEvent) -> str:
    """Parse and apply a claimed event, then mark it; raises _ProcessingFailed when applying failed."""
    try:
        parsed = parse_server_message(event.body.encode("utf-8"), max_depth=settings.VAPI_WEBHOOK_MAX_DEPTH)
    except EnvelopeError as exc:
        event.attempts += 1
        event.state = EventState.FAILED
        event.error = f"Stored body is not a server message: {exc.reason}"
        event.save(update_fields=["attempts", "state", "error"])
        metrics.event_processed(event.message_type, event.state)
        return event.state
    state = EventState.PROCESSED if has_processor(parsed.type) else EventState.IGNORED
    try:
        message_process(parsed=parsed)
    except Exception as exc:  # noqa: BLE001 - recorded on the row, retried by the sweeper
        raise _ProcessingFailed() from exc
    SqlBatch([prepared_call(_MARK, {"state": state, "at": timezone.now(), "id": event.pk})]).flush()
    log.info("webhook.processed", state=state)
    metrics.event_processed(event.message_type, state)
    return state


def webhook_event_replay(*, event: WebhookEvent) -> None:
    """Process ``event`` again from its stored body (admin/API action), whatever its state.

    Processing is idempotent, so replaying an applied event changes nothing; replaying a
    failed one after a fix applies it.
    """
    WebhookEvent.objects.filter(pk=event.pk).update(
        state=EventState.RECEIVED, attempts=0, error="", traceback="", processed_at=None
    )
    webhook_event_process(event_id=event.pk)
    event.refresh_from_db()


def webhook_events_sweep(
    *, older_than_seconds: int | None = None, limit: int = 500, budget_seconds: float = 50.0
) -> int:
    """Process events stored but not processed for a while (broker down, worker crash).

    Runs inside the beat task, claiming rows one by one with SKIP LOCKED, so a second
    sweeper or a worker handling the same event never processes it twice. Bounded by
    ``limit`` and a time budget so runs do not pile up.
    """
    age = settings.VAPI_WEBHOOK_SWEEP_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    cutoff = timezone.now() - dt.timedelta(seconds=age)
    ids = list(
        WebhookEvent.objects.filter(state=EventState.RECEIVED, received_at__lte=cutoff)
        .order_by("received_at")
        .values_list("id", flat=True)[:limit]
    )
    started = time.monotonic()
    processed = 0
    for event_id in ids:
        if time.monotonic() - started > budget_seconds:
            break
        if webhook_event_process(event_id=event_id) is not None:
            processed += 1
    if ids:
        log.info("webhook.sweep", candidates=len(ids), processed=processed)
    return processed


# Claimed first: a call's ``ended`` status (it frees a campaign slot and the org's budget), then
# the other status changes (cheap), then reports, transcripts and the rest. The ``ended`` look reads
# the raw body (compact or spaced JSON) of recent rows only, so a large backlog stays cheap to order.
ENDED_LOOKBACK = dt.timedelta(seconds=60)
PICK = 16  # events per look at the queue, so an ended status waits behind at most this many


_PENDING_WHERE = "state = %(received)s AND attempts = 0"  # retries are the sweeper's
# The three groups in one planned statement: the ledger looks at its queue every PICK events and
# after each ended status, and three ORM queries per look were an eighth of its time. An ended
# status is in the first group and again in the second; the caller keeps its first place.
_PENDING = Prepared(
    "ledger_pending",
    f"SELECT id FROM ((SELECT id, 0 AS g FROM {WebhookEvent._meta.db_table}"  # noqa: S608
    f" WHERE {_PENDING_WHERE} AND message_type = %(status)s"
    " AND (body LIKE %(compact)s OR body LIKE %(spaced)s) AND received_at >= %(since)s"
    " ORDER BY id LIMIT %(limit)s)"
    f" UNION ALL (SELECT id, 1 FROM {WebhookEvent._meta.db_table}"
    f" WHERE {_PENDING_WHERE} AND message_type = %(status)s ORDER BY id LIMIT %(limit)s)"
    f" UNION ALL (SELECT id, 2 FROM {WebhookEvent._meta.db_table}"
    f" WHERE {_PENDING_WHERE} AND message_type <> %(status)s ORDER BY id LIMIT %(limit)s)) q"
    " ORDER BY g, id",
)


def webhook_events_pending_ids(*, limit: int) -> list[int]:
    """Unprocessed events: recent ``ended`` statuses, other statuses, the rest; each in arrival order."""
    rows = prepared_fetch(
        _PENDING,
        {
            "received": EventState.RECEIVED,
            "status": STATUS_UPDATE,
            "compact": ENDED_BODY[0],
            "spaced": ENDED_BODY[1],
            "since": timezone.now() - ENDED_LOOKBACK,
            "limit": limit,
        },
    )
    return list(dict.fromkeys(row[0] for row in rows))[:limit]


def webhook_events_process_pending(
    *,
    limit: int = 200,
    stop: Callable[[], bool] | None = None,
    ended_arrived: Callable[[], bool] | None = None,
) -> int:
    """Process received events, up to ``limit`` (the ledger worker's batch): status changes first.

    The queue is looked at again every PICK events, so an ``ended`` status arriving behind a
    backlog of reports waits for at most PICK of them, not for the whole batch; and at once after
    the event in hand when ``ended_arrived()`` (asked between events: the ledger worker reads the
    NOTIFY payloads that came in meanwhile) says one was stored. Rows another
    worker holds are skipped (SKIP LOCKED in ``webhook_event_process``), so any number of ledger
    workers and the sweeper can run side by side. ``stop`` is asked between events, so a worker
    told to shut down does not finish a whole batch first.
    """
    processed = 0
    looked = 0
    while looked < limit:
        ids = webhook_events_pending_ids(limit=min(PICK, limit - looked))
        if not ids:
            break
        for event_id in ids:
            if stop is not None and stop():
                return processed
            looked += 1
            if webhook_event_process(event_id=event_id) is not None:
                processed += 1
            if ended_arrived is not None and ended_arrived():
                break  # an ended status arrived meanwhile: look again, it goes first
    return processed
