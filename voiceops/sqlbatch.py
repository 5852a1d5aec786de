"""Several SQL statements in one round trip, prepared once per connection: psycopg's pipeline mode.

Why: on the tool-call path a caller waits on, the cost is paid per round trip (a Django
cursor, a psycopg send and wait, a Postgres protocol cycle, two context switches) and per
plan: Django binds parameters on the client (``ClientCursor``), so Postgres parses and
plans every statement anew, and planning the tool claim costs it three times what running
it does. Statements whose results nobody reads (savepoints, the answer's UPDATEs, timeout
resets) wait in a ``SqlBatch`` and travel with the next statement that is sent anyway.

How: the statements of a round trip are queued in psycopg's pipeline mode on Django's
connection and sent before one Sync. Each goes through a plain psycopg ``Cursor``
(server-side binding) as a prepared statement, so Postgres plans it once per connection;
psycopg keeps the most recent ones per connection (``prepared_max``, 100). Django's own
queries stay client-bound and unprepared; ``DB_PREPARED_STATEMENTS=0`` (for a transaction
pooler such as PgBouncer before 1.21) turns preparation off here too.
Postgres runs them in order, inside the current transaction; an error stops the pipeline
at the failing statement (the ones before it have run) and is raised as Django's
``DatabaseError``, as from any cursor.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from django.db import connection

Params = Sequence[Any] | Mapping[str, Any] | None
Statement = tuple[str, Params]


def pipeline_run(statements: Sequence[Statement], *, result: int | None = None) -> list[tuple[Any, ...]]:
    """Send ``statements`` in one round trip; return the rows of ``statements[result]`` (or [])."""
    if not statements:
        return []
    connection.validate_no_broken_transaction()
    connection.ensure_connection()
    raw = connection.connection
    started = time.monotonic()
    with connection.wrap_database_errors:
        cursors = []
        with raw.pipeline():
            for sql, params in statements:
                cursor = psycopg.Cursor(raw)
                cursors.append(cursor)
                cursor.execute(sql, params, prepare=True)
        rows = cursors[result].fetchall() if result is not None else []
    if connection.queries_logged:  # what CaptureQueriesContext and DEBUG's query log show: one per round trip
        connection.queries_log.append(
            {"sql": "; ".join(sql for sql, _ in statements), "time": f"{time.monotonic() - started:.3f}"}
        )
    return rows


class SqlBatch:
    """Statements to send, in order, with the next round trip (or on ``flush``).

    One statement per ``add``: ``fetch`` finds its result by counting them.
    """

    def __init__(self, pending: Sequence[Statement] = ()) -> None:
        """``pending``: statements already queued (another batch's ``take``) to send first."""
        self.pending: list[Statement] = list(pending)

    def add(self, sql: str, params: Params = None) -> None:
        if sql.startswith("ROLLBACK"):
            # psycopg answers a ROLLBACK by forgetting the connection's prepared statements and
            # DEALLOCATEing them on the server a little later: inside a pipeline that prepares
            # others, that could drop one psycopg has just recorded. Send it with a cursor.
            raise ValueError("a ROLLBACK cannot wait in a pipeline of prepared statements")
        self.pending.append((sql, params))

    def take(self) -> list[Statement]:
        """The pending statements, now the caller's to send (ordering is theirs to keep)."""
        pending, self.pending = self.pending, []
        return pending

    def flush(self) -> None:
        pipeline_run(self.take())

    def fetch(self, statements: Sequence[Statement], *, result: int) -> list[tuple[Any, ...]]:
        """Send the pending statements and then ``statements``; return the rows of ``statements[result]``."""
        pending = self.take()
        return pipeline_run([*pending, *statements], result=len(pending) + result)
