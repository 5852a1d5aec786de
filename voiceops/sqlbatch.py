"""Several SQL statements in one round trip, for the paths a caller waits on.

Why: on the tool-call path the cost is the number of round trips (each one a Django cursor,
a psycopg send and wait, a Postgres protocol cycle, two context switches), not the
statements themselves. Statements whose results nobody reads (savepoints, the answer's
UPDATEs, timeout resets) wait in a ``SqlBatch`` and travel with the next statement that is
sent anyway.

How: Django's psycopg backend binds parameters on the client (``ClientCursor``), so a
query with its values merged is sent with the simple query protocol, which accepts several
statements separated by ``;`` and runs them in order, inside the current transaction. An
error stops the batch at the failing statement; the ones before it have run.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from psycopg import ClientCursor

Params = Sequence[Any] | Mapping[str, Any] | None


_quoting = threading.local()


def _quoting_cursor() -> ClientCursor[Any]:
    """A cursor used only to quote values (never executes), one per thread and connection."""
    connection.ensure_connection()
    raw = connection.connection
    if getattr(_quoting, "connection", None) is not raw:
        _quoting.connection, _quoting.cursor = raw, ClientCursor(raw)
    return _quoting.cursor


def sql_text(sql: str, params: Params = None) -> str:
    """``sql`` with ``params`` merged in, quoted by psycopg exactly as an execute would."""
    if params is None:
        return sql
    with connection.wrap_database_errors:  # e.g. a NUL in a value: a DataError, as from execute
        return _quoting_cursor().mogrify(sql, params)


class SqlBatch:
    """Statements to send, in order, with the next round trip (or on ``flush``).

    One statement per ``add``: ``fetch`` finds its result by counting them.
    """

    def __init__(self, pending: Sequence[str] = ()) -> None:
        """``pending``: statements already rendered (another batch's ``take``) to send first."""
        self.pending: list[str] = list(pending)

    def add(self, sql: str, params: Params = None) -> None:
        self.pending.append(sql_text(sql, params))

    def take(self) -> list[str]:
        """The pending statements, now the caller's to send (ordering is theirs to keep)."""
        pending, self.pending = self.pending, []
        return pending

    def flush(self) -> None:
        if self.pending:
            with connection.cursor() as cursor:
                cursor.execute("; ".join(self.take()))

    def fetch(self, statements: Sequence[tuple[str, Params]], *, result: int) -> list[tuple[Any, ...]]:
        """Send the pending statements and then ``statements``; return the rows of ``statements[result]``."""
        texts = self.take() + [sql_text(sql, params) for sql, params in statements]
        index = len(texts) - len(statements) + result
        with connection.cursor() as cursor:
            cursor.execute("; ".join(texts))
            for _ in range(index):
                cursor.nextset()
            return cursor.fetchall()
