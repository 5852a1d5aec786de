"""Several SQL statements in one round trip, planned once per connection, for the paths a caller waits on.

Why: on the tool-call path the cost is the number of round trips (each one a Django cursor,
a psycopg send and wait, a Postgres protocol cycle, two context switches) and the planning
of each statement: Django binds parameters on the client (``ClientCursor``), so Postgres
parses and plans every statement anew, and planning the tool claim costs it 3x what
running it does. Statements whose results nobody reads (savepoints, the answer's UPDATEs,
timeout resets) wait in a ``SqlBatch`` and travel with the next statement that is sent
anyway; the hot ones are ``Prepared``: ``PREPARE`` once per connection, then ``EXECUTE``.

How: a query with its values merged is sent with the simple query protocol, which accepts
several statements separated by ``;`` and runs them in order, inside the current
transaction. An error stops the batch at the failing statement; the ones before it have
run. (psycopg's pipeline mode does the same with protocol-level prepared statements, but
measured here it cost 0.45 ms more Python per tool call than it saved Postgres.)
A ``PREPARE`` is not undone by a rollback; one sent in a batch that failed may or may not
exist, so the next try prepares under a new name.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection
from psycopg import ClientCursor

Params = Sequence[Any] | Mapping[str, Any] | None
T = TypeVar("T")


def _per_connection(name: str, make: Callable[[Any], T]) -> T:
    """State that lives as long as this thread's psycopg connection: kept on Django's (per-thread)
    connection beside the psycopg connection it was made for, so a connection Django replaced
    (closed, broken, too old) starts afresh."""
    connection.ensure_connection()
    raw = connection.connection
    held = getattr(connection, name, None)
    if held is None or held[0] is not raw:
        held = (raw, make(raw))
        setattr(connection, name, held)
    return held[1]


def _quoting_cursor() -> ClientCursor[Any]:
    """A cursor used only to quote values (never executes)."""
    return _per_connection("voiceops_quoting", ClientCursor)


def sql_text(sql: str, params: Params = None) -> str:
    """``sql`` with ``params`` merged in, quoted by psycopg exactly as an execute would."""
    if params is None:
        return sql
    with connection.wrap_database_errors:  # e.g. a NUL in a value: a DataError, as from execute
        return _quoting_cursor().mogrify(sql, params)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s")
_aliases = itertools.count(1)


def _prepared_here() -> dict[str, str]:
    """This connection's prepared statements: ``Prepared.name`` -> the name it has there."""
    return _per_connection("voiceops_prepared", lambda raw: {})


class Prepared:
    """A statement Postgres parses and plans once per connection.

    ``sql`` takes ``%(name)s`` or ``%s`` placeholders, as a cursor would; each becomes a
    ``$n`` parameter whose type Postgres infers from where it stands (cast where it cannot).
    """

    def __init__(self, name: str, sql: str) -> None:
        self.name = name
        self.keys: list[str | int] = []
        position = itertools.count()

        def number(match: re.Match[str]) -> str:
            key: str | int = match.group(1) or next(position)
            if key not in self.keys:
                self.keys.append(key)
            return f"${self.keys.index(key) + 1}"

        self.body = _PLACEHOLDER.sub(number, sql).replace("%%", "%")  # sent as it is, never formatted
        self.arguments = "(" + ", ".join(["%s"] * len(self.keys)) + ")" if self.keys else ""

    def values(self, params: Params) -> list[Any]:
        if isinstance(params, Mapping):
            return [params[str(key)] for key in self.keys]
        return list(params or ())

    def __repr__(self) -> str:
        return f"Prepared({self.name!r})"


@dataclass(frozen=True)
class PreparedCall:
    """A ``Prepared`` statement with its values already quoted (a value Postgres refuses fails
    here, before anything is sent); it becomes ``EXECUTE`` (and once ``PREPARE``) when sent."""

    statement: Prepared
    arguments: str


def prepared_call(statement: Prepared, params: Params) -> PreparedCall:
    return PreparedCall(
        statement, sql_text(statement.arguments, statement.values(params)) if statement.keys else ""
    )


Pending = str | PreparedCall


def _render(items: Sequence[Pending]) -> tuple[list[str], list[int], dict[str, str]]:
    """The statements to send; where each item's result is; the PREPAREs they add (kept)."""
    keep = settings.DB_PREPARED_STATEMENTS
    known = _prepared_here() if keep else {}
    added: dict[str, str] = {}
    texts: list[str] = []
    positions: list[int] = []
    for item in items:
        if isinstance(item, PreparedCall):
            name = item.statement.name
            alias = known.get(name) or added.get(name)
            if alias is None:
                alias = added[name] = f"voiceops_{name}_{next(_aliases)}"
                texts.append(f"PREPARE {alias} AS {item.statement.body}")
            item = f"EXECUTE {alias}{item.arguments}"
        positions.append(len(texts))
        texts.append(item)
    if not keep:  # behind a transaction pooler: nothing may outlive this round trip
        texts += [f"DEALLOCATE {alias}" for alias in added.values()]
        return texts, positions, {}
    return texts, positions, added


def _send(items: Sequence[Pending], result: int | None) -> list[tuple[Any, ...]]:
    texts, positions, added = _render(items)
    with connection.cursor() as cursor:
        cursor.execute("; ".join(texts))
        if added:  # only once Postgres ran them all: a failed batch leaves nothing recorded
            _prepared_here().update(added)
        if result is None:
            return []
        for _ in range(positions[result]):
            cursor.nextset()
        return cursor.fetchall()


def prepared_fetch(statement: Prepared, params: Params) -> list[tuple[Any, ...]]:
    """Run one prepared statement now; its rows."""
    return _send([prepared_call(statement, params)], result=0)


class SqlBatch:
    """Statements to send, in order, with the next round trip (or on ``flush``).

    One statement per ``add``: ``fetch`` finds its result by counting them.
    """

    def __init__(self, pending: Sequence[Pending] = ()) -> None:
        """``pending``: statements already queued (another batch's ``take``) to send first."""
        self.pending: list[Pending] = list(pending)

    def add(self, sql: str | Prepared, params: Params = None) -> None:
        self.pending.append(
            prepared_call(sql, params) if isinstance(sql, Prepared) else sql_text(sql, params)
        )

    def take(self) -> list[Pending]:
        """The pending statements, now the caller's to send (ordering is theirs to keep)."""
        pending, self.pending = self.pending, []
        return pending

    def flush(self) -> None:
        if self.pending:
            _send(self.take(), result=None)

    def fetch(self, statements: Sequence[Pending], *, result: int) -> list[tuple[Any, ...]]:
        """Send the pending statements and then ``statements`` (SQL text, or a ``prepared_call``);
        return the rows of ``statements[result]``."""
        pending = self.take()
        return _send([*pending, *statements], result=len(pending) + result)
