"""The pipeline under the tool-call path: one round trip, results by position, errors as Django's."""

from __future__ import annotations

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from voiceops.sqlbatch import SqlBatch, pipeline_run

pytestmark = pytest.mark.django_db


def test_pending_statements_travel_with_the_next_fetch_in_one_round_trip():
    batch = SqlBatch()
    batch.add("CREATE TEMP TABLE t (n int PRIMARY KEY)")
    batch.add("INSERT INTO t VALUES (%s)", [1])
    with CaptureQueriesContext(connection) as captured:
        rows = batch.fetch(
            [("INSERT INTO t VALUES (%(n)s)", {"n": 2}), ("SELECT sum(n) FROM t", None)], result=1
        )
    assert rows == [(3,)]
    assert len(captured) == 1 and captured[0]["sql"].count(";") == 3
    assert batch.pending == []


def test_a_failing_statement_stops_the_round_trip_after_what_ran_before_it():
    """A sequence is not transactional: it shows which statements ran."""
    pipeline_run([("CREATE TEMP TABLE u (n int PRIMARY KEY)", None), ("CREATE TEMP SEQUENCE s", None)])
    step = ("SELECT nextval('s')", None)
    with pytest.raises(IntegrityError), transaction.atomic():
        pipeline_run([step, ("INSERT INTO u VALUES (1)", None), ("INSERT INTO u VALUES (1)", None), step])
    assert pipeline_run([("SELECT last_value FROM s", None)], result=0) == [(1,)]
    assert pipeline_run([("SELECT count(*) FROM u", None)], result=0) == [(0,)]


def test_a_value_postgres_refuses_is_a_data_error_not_a_crash():
    with pytest.raises(DataError):
        pipeline_run([("SELECT %s::text", ["nul \x00 inside"])], result=0)
    assert pipeline_run([("SELECT 1", None)], result=0) == [(1,)]  # the connection is still usable


def test_a_rollback_may_not_wait_in_the_pipeline():
    """psycopg forgets its prepared statements on a ROLLBACK: queued, it could drop one just made."""
    with pytest.raises(ValueError, match="ROLLBACK"):
        SqlBatch().add("ROLLBACK TO SAVEPOINT tool_handler")
