"""Property-based run of every operation in /api/schema/ against the Django WSGI app.

Bounded (a few examples per operation) so it stays well under the suite's budget. A key
with every scope authenticates, so generated inputs reach the views; the checks assert
that nothing answers 5xx and every response (status, content type, headers, body) is one
the schema documents. Runs with real commits (transactional_db) so a refused write
behaves as in production instead of poisoning a wrapping test transaction.
"""

from __future__ import annotations

import re

import pytest
import responses
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import ALL_SCOPES, make_key
from tests.factories import (
    AppointmentFactory,
    CallFactory,
    CampaignRecipientFactory,
    ToolFactory,
    ToolInvocationFactory,
    TranscriptTurnFactory,
    WebhookEventFactory,
)
from voiceops.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# The coverage phase (boundary values, missing/invalid parameters) stays on for the writes,
# without probing every path with every undeclared HTTP method (~40% of the run). For reads
# it walked every combination of every list filter's boundaries: three quarters of what was
# left, for filters the random phases still send.
CONFIG = schemathesis.Config.from_dict(
    {
        "phases": {"coverage": {"unexpected-methods": []}},
        "operations": [{"include-method": "GET", "phases": {"coverage": {"enabled": False}}}],
    }
)


@pytest.fixture(autouse=True)
def _node_id_shim(request):
    """schemathesis 4.32 reads ``node._nodeid`` (only for naming), which pytest 9 no longer has."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture
def api_schema(transactional_db):
    return schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def fake_vapi():
    """Nothing reaches the network: every Vapi request gets a 503 (the API must cope: no 5xx of ours)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for method in (responses.GET, responses.POST, responses.PATCH, responses.DELETE):
            rsps.add(method, re.compile(r"http://vapi\.test/.*"), json={"message": "down"}, status=503)
        yield rsps


@pytest.fixture
def full_key(transactional_db, settings, fake_vapi):
    settings.API_THROTTLE_RATE = "100000/min"
    settings.API_IDEMPOTENCY_WAIT_SECONDS = 0.2
    # A little of everything, with low ids, so some generated ids hit real rows.
    call = CallFactory()
    TranscriptTurnFactory(call=call)
    ToolInvocationFactory(call=call)
    CampaignRecipientFactory()
    AppointmentFactory()
    ToolFactory(name="get_customer_info")
    WebhookEventFactory()
    _, key = make_key(*ALL_SCOPES)
    return key


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, full_key):
    case.call_and_validate(headers={"Authorization": f"Api-Key {full_key}"}, checks=CHECKS)
