"""Group commit for the ledger: many webhook requests, one INSERT, one commit.

A durable endpoint pays one commit (a WAL flush) per request. Here request threads of a
process hand their row to one writer thread, which takes everything queued, writes it with
one multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING id, dedupe_key`` in autocommit,
and wakes each request with its id. A request is answered only after its row is committed,
so nothing acknowledged is lost; under load, batches form by themselves (no added wait: the
writer takes what queued up while the previous commit was in flight).

A duplicate inside one batch (same dedupe key twice) gets None, like a duplicate across
batches. A database error fails every request of that batch (the view answers 503).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import structlog
from django.conf import settings
from django.db import OperationalError, connection

from calls.models import WebhookEvent
from calls.services.events import NOTIFY_CHANNEL, NOTIFY_ENDED

log = structlog.get_logger(__name__)

_COLUMNS = (
    "message_type, vapi_call_id, body, headers, received_at, message_timestamp, dedupe_key, state, attempts,"
    " error, traceback, response, processed_at"
)
_ROW = "(%s, %s, %s, %s::jsonb, %s, %s, %s, %s, 0, '', '', %s::jsonb, %s)"
_DEDUPE_KEY_INDEX = 6
_WAIT_SECONDS = 10.0

_Item = tuple[list[Any], str | None, Future]  # row, NOTIFY payload (None: no NOTIFY), waiter
_STOP = None


class _GroupCommitter:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, row: list[Any], notify: str | None) -> int | None:
        future: Future = Future()
        self._queue.put((row, notify, future))
        self._ensure_thread()
        try:
            return future.result(timeout=_WAIT_SECONDS)
        except FutureTimeout as exc:
            # Not known to be committed, so not acknowledged: the view answers 503 and Vapi
            # retries (the dedupe key makes a late commit plus the retry one row).
            raise OperationalError(f"group commit did not finish within {_WAIT_SECONDS:.0f}s") from exc

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ledger-group-commit", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Stop the writer thread and close its connection (tests, process shutdown)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout=_WAIT_SECONDS)

    def _run(self) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch = [first]
                limit = settings.VAPI_WEBHOOK_GROUP_COMMIT_MAX_ROWS
                while len(batch) < limit:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        self._queue.put(_STOP)  # finish this batch, then stop
                        break
                    batch.append(item)
                self._commit(batch)
        finally:
            connection.close()

    def _commit(self, batch: list[_Item]) -> None:
        try:
            self._write(batch)
        except BaseException as exc:  # noqa: BLE001 - every waiter must hear about it
            connection.close_if_unusable_or_obsolete()
            log.warning("webhook.group_commit_failed", rows=len(batch), error=type(exc).__name__)
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)

    @staticmethod
    def _write(batch: list[_Item]) -> None:
        rows = [row for row, _, _ in batch]
        sql = (
            f"INSERT INTO {WebhookEvent._meta.db_table} ({_COLUMNS}) VALUES "  # noqa: S608 - no user input
            + ", ".join([_ROW] * len(rows))
            + " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key"
        )
        params = [value for row in rows for value in row]
        payloads = {notify for _, notify, _ in batch if notify is not None}
        if payloads:  # one NOTIFY per commit (Postgres folds equal ones): "ended" if any row is
            sql = f"WITH ins AS ({sql}) SELECT id, dedupe_key, pg_notify('{NOTIFY_CHANNEL}', %s) FROM ins"  # noqa: S608
            params.append(NOTIFY_ENDED if NOTIFY_ENDED in payloads else "")
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            inserted = {key: event_id for event_id, key, *_ in cursor.fetchall()}
        for row, _, future in batch:
            # The first request with a key gets the id; a duplicate in the same batch gets None.
            future.set_result(inserted.pop(row[_DEDUPE_KEY_INDEX], None))


_committer = _GroupCommitter()


def group_insert(*, row: list[Any], notify: str | None) -> int | None:
    """Insert ``row`` in the next group commit; returns its id, or None for a duplicate.
    ``notify``: the NOTIFY payload the row asks for (``events.notify_payload``), None for none."""
    return _committer.submit(row, notify)


def group_commit_stop() -> None:
    _committer.stop()
