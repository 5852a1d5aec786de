"""What one get_customer_info message costs the database, counted so it cannot creep back.

The tool-call path is paid in round trips (docs/SCALING.md). These tests pin the statements a
message sends through POST /webhooks/vapi/, in a real transaction (``transaction=True``: the
webhook's BEGIN and COMMIT are part of the count). Django's connection health check (one
``SELECT 1`` per request, on the raw connection) is not counted by CaptureQueriesContext.
"""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calls.models import WebhookEvent
from tests.calls.conftest import post
from tests.factories import AppointmentFactory, CustomerFactory
from tests.tools.conftest import CALLER, tool_call, tool_message
from tools.models import ToolInvocation

pytestmark = pytest.mark.django_db(transaction=True)


def statements(client, message: dict) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = post(client, {"message": message})
    assert response.status_code == 200
    return response.json()["results"][0], [q["sql"] for q in captured.captured_queries]


def assert_the_five(sql: list[str]) -> None:
    """BEGIN, ledger row, claim (savepoints and caller included), recorded answers, COMMIT.

    The hot statements are prepared statements (voiceops.sqlbatch): named, and PREPAREd in
    the same round trip the first time a connection runs them.
    """
    assert sql[0] == "BEGIN" and sql[-1] == "COMMIT"
    assert "voiceops_ledger_insert_" in sql[1] and ";" not in sql[1].split(" AS ")[0]
    assert sql[2].startswith("SAVEPOINT tool_claim") and "voiceops_tool_claim_" in sql[2]
    assert "voiceops_tool_record_" in sql[-2] and "voiceops_ledger_answered_" in sql[-2]
    alone = [s for s in sql if s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")) and ";" not in s]
    assert not alone, "a savepoint never costs a round trip of its own"


def test_a_web_call_without_a_number_costs_five_statements(client):
    """The refusal (no line to act for) rolls its savepoint back with the recorded answer."""
    result, sql = statements(client, tool_message(tool_call("get_customer_info"), number=None))
    assert "phone number" in result["error"]
    assert len(sql) == 5, sql
    assert_the_five(sql)
    assert "ROLLBACK TO SAVEPOINT tool_handler" in sql[3]
    assert ToolInvocation.objects.get().outcome == "refused"


def test_a_new_caller_costs_five_statements(client):
    """The caller is looked up by the claim itself: no query of its own."""
    result, sql = statements(client, tool_message(tool_call("get_customer_info")))
    assert "new caller" in result["result"]
    assert len(sql) == 5, sql
    assert_the_five(sql)


def test_a_known_caller_adds_only_the_appointments_query(client):
    customer = CustomerFactory(number=CALLER, name="Ada Lovelace")
    AppointmentFactory(customer=customer)
    result, sql = statements(client, tool_message(tool_call("get_customer_info")))
    assert result["result"].startswith("This is Ada Lovelace. Upcoming appointments")
    assert len(sql) == 6, sql
    assert "tools_appointment" in sql[3]
    assert_the_five(sql[:3] + sql[4:])


def test_a_redelivery_is_answered_from_the_ledger(client):
    message = tool_message(tool_call("get_customer_info"))
    first, _ = statements(client, message)
    again, sql = statements(client, message)
    assert again == first
    assert len(sql) == 4, sql  # BEGIN, the INSERT that finds the row, the stored answer, COMMIT
    assert ToolInvocation.objects.count() == 1


def test_a_connection_that_died_since_the_last_request_is_replaced_not_a_failed_answer(client):
    """No health check round trip: a dead persistent connection fails the first statement,
    and the message is answered again on a new one (nothing was committed)."""
    statements(client, tool_message(tool_call("get_customer_info")))  # the connection now persists
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with psycopg.connect(_dsn(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    message = tool_message(tool_call("get_customer_info"))
    result, _ = statements(client, message)
    assert "new caller" in result["result"]
    assert WebhookEvent.objects.filter(vapi_call_id=message["call"]["id"]).count() == 1


def _dsn() -> str:
    s = connection.settings_dict
    return f"host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432} dbname={s['NAME']} user={s['USER']}" + (
        f" password={s['PASSWORD']}" if s["PASSWORD"] else ""
    )


def test_the_hot_statements_are_planned_once_per_connection(client):
    """PREPAREd with the first message on a connection (voiceops.sqlbatch), then EXECUTEd: Postgres
    no longer parses and plans the claim anew for every tool call (3x what running it costs)."""
    for _ in range(3):
        _, sql = statements(client, tool_message(tool_call("get_customer_info")))
    assert len(sql) == 5 and "PREPARE" not in " ".join(sql)  # the third message on this connection
    assert_the_five(sql)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        names = {name.rsplit("_", 1)[0] for (name,) in cursor.fetchall()}
    assert {"voiceops_tool_claim", "voiceops_tool_record", "voiceops_ledger_insert"} <= names
