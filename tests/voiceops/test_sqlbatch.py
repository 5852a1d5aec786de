"""Statements in one round trip, the hot ones planned once per connection (voiceops.sqlbatch)."""

from __future__ import annotations

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from voiceops.sqlbatch import Prepared, SqlBatch, prepared_call, prepared_fetch

pytestmark = pytest.mark.django_db

TOTAL = Prepared("test_total", "SELECT sum(n) + %(extra)s::int FROM t")


def prepared_here() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM pg_prepared_statements WHERE name LIKE 'voiceops_test_%%' ORDER BY name"
        )
        return [row[0] for row in cursor.fetchall()]


def test_pending_statements_travel_with_the_next_fetch_in_one_round_trip():
    batch = SqlBatch()
    batch.add("CREATE TEMP TABLE t (n int PRIMARY KEY)")
    batch.add("INSERT INTO t VALUES (%s)", [1])
    with CaptureQueriesContext(connection) as captured:
        rows = batch.fetch(["INSERT INTO t VALUES (2)", prepared_call(TOTAL, {"extra": 10})], result=1)
    assert rows == [(13,)]
    assert len(captured) == 1
    assert batch.pending == []


def test_a_prepared_statement_is_prepared_once_per_connection_then_executed():
    SqlBatch(["CREATE TEMP TABLE t (n int)"]).flush()
    total = Prepared("test_once", "SELECT sum(n) + %(extra)s::int FROM t")
    with CaptureQueriesContext(connection) as captured:
        first = prepared_fetch(total, {"extra": 1})
        second = prepared_fetch(total, {"extra": 2})
    assert (first, second) == ([(None,)], [(None,)])
    assert captured[0]["sql"].startswith("PREPARE voiceops_test_once_")
    assert captured[1]["sql"].startswith("EXECUTE voiceops_test_once_")
    assert "PREPARE" not in captured[1]["sql"]
    assert len([name for name in prepared_here() if name.startswith("voiceops_test_once_")]) == 1


def test_a_batch_that_failed_prepares_again_under_a_new_name():
    """A PREPARE is not undone by a rollback: whether it ran before the failure is unknown."""
    SqlBatch(["CREATE TEMP TABLE t (n int PRIMARY KEY)"]).flush()
    insert = Prepared("test_retry", "INSERT INTO t VALUES (%s) RETURNING n")
    with pytest.raises(IntegrityError), transaction.atomic():
        SqlBatch().fetch([prepared_call(insert, [1]), prepared_call(insert, [1])], result=0)
    assert prepared_fetch(insert, [1]) == [(1,)]  # the row went with the rollback
    names = [name for name in prepared_here() if name.startswith("voiceops_test_retry_")]
    assert len(names) == 2  # the failed batch's, and the one that was recorded


def test_a_failing_statement_stops_the_round_trip_after_what_ran_before_it():
    """A sequence is not transactional: it shows which statements ran."""
    SqlBatch(["CREATE TEMP TABLE u (n int PRIMARY KEY)", "CREATE TEMP SEQUENCE s"]).flush()
    batch = SqlBatch()
    for sql in (
        "SELECT nextval('s')",
        "INSERT INTO u VALUES (1)",
        "INSERT INTO u VALUES (1)",
        "SELECT nextval('s')",
    ):
        batch.add(sql)
    with pytest.raises(IntegrityError), transaction.atomic():
        batch.flush()
    assert SqlBatch().fetch(["SELECT last_value FROM s"], result=0) == [(1,)]


def test_a_value_postgres_refuses_fails_before_anything_is_sent():
    with CaptureQueriesContext(connection) as captured, pytest.raises(DataError):
        prepared_call(TOTAL, {"extra": "nul \x00 inside"})
    assert len(captured) == 0


def test_behind_a_transaction_pooler_nothing_outlives_the_round_trip(settings):
    settings.DB_PREPARED_STATEMENTS = False
    SqlBatch(["CREATE TEMP TABLE t (n int)"]).flush()
    before = prepared_here()
    total = Prepared("test_pooled", "SELECT sum(n) + %(extra)s::int FROM t")
    assert prepared_fetch(total, {"extra": 5}) == [(None,)]
    assert prepared_fetch(total, {"extra": 5}) == [(None,)]
    assert prepared_here() == before
