"""The business outcome of each tool call, in a real browser: call page and invocation list."""

from __future__ import annotations

import pytest

from calls.enums import CallStatus
from tests.admin.browser.conftest import assert_no_csp_violations, login, shot
from tests.admin.conftest import PASSWORD, make_user
from tests.factories import CallFactory, ToolInvocationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_sees_what_each_tool_call_did(page, live_server):
    call = CallFactory(status=CallStatus.ENDED)
    taken = ToolInvocationFactory(
        call=call,
        vapi_call_id=call.vapi_id,
        tool_call_id="call_0",
        name="book_appointment",
        state="succeeded",
        outcome="slot_taken",
        result="Sorry, Monday at 10 AM was just taken. The next free times are 10:30 AM or 11 AM.",
        latency_ms=38,
    )
    ToolInvocationFactory(
        call=call,
        vapi_call_id=call.vapi_id,
        tool_call_id="call_1",
        name="book_appointment",
        state="succeeded",
        outcome="booked",
        result="Booked with Dr. Patel on Monday at 10:30 AM. The confirmation code is K 7 Q X 2 M.",
        latency_ms=41,
    )
    make_user("ops-manager", group="Ops manager")
    login(page, live_server, "ops-manager", PASSWORD)

    page.goto(f"{live_server.url}/admin/calls/call/{call.pk}/change/")
    timeline = page.locator("#conversation")
    timeline.wait_for()
    outcomes = page.locator("#conversation .vo-outcome")
    assert outcomes.all_inner_texts() == ["Slot taken", "Booked"]
    shot(page, "call-page-tool-outcomes")

    page.goto(f"{live_server.url}/admin/tools/toolinvocation/?outcome=slot_taken")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "Slot taken" in rows.first.inner_text()
    shot(page, "tool-invocations-by-outcome")

    page.goto(f"{live_server.url}/admin/tools/toolinvocation/{taken.pk}/change/")
    outcome = page.locator(".field-outcome .readonly")
    outcome.wait_for()
    assert outcome.inner_text() == "Slot taken"
    shot(page, "tool-invocation-detail")
    assert_no_csp_violations(page)
