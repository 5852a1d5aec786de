"""The ops console in a real browser: log in, read a call, look at the dashboard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from calls.enums import CallStatus
from tests.admin.browser.conftest import assert_no_csp_violations, login, shot
from tests.admin.conftest import PASSWORD, make_user
from tests.conftest import load_fixture
from tests.factories import CallFactory, ToolInvocationFactory, TranscriptTurnFactory, WebhookEventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def call():
    report = load_fixture("end-of-call-report.json")["message"]
    started = timezone.now() - dt.timedelta(minutes=10)
    call = CallFactory(
        status=CallStatus.ENDED,
        outcome="completed",
        started_at=started,
        duration_seconds=95,
        cost=Decimal("0.242"),
        cost_breakdown=report["costBreakdown"],
        recording_url="https://storage.example.com/recordings/demo.wav",
        summary=report["analysis"]["summary"],
        structured_data=report["analysis"]["structuredData"],
        success_evaluation="true",
    )
    TranscriptTurnFactory(
        call=call, position=0, role="assistant", text="Hi Dana, this is Riley.", seconds_from_start=0.9
    )
    TranscriptTurnFactory(
        call=call, position=1, role="user", text="Where is my order NW-48213?", seconds_from_start=8.1
    )
    ToolInvocationFactory(
        call=call,
        name="lookup_order_status",
        arguments={"order_number": "NW-48213"},
        state="succeeded",
        result="Shipped March 12.",
        latency_ms=140,
    )
    WebhookEventFactory(
        vapi_call_id=call.vapi_id, message_type="end-of-call-report", state="failed", error="boom"
    )
    return call


def test_manager_logs_in_and_reads_a_call(page, live_server, call):
    make_user("ops-manager", group="Ops manager")
    login(page, live_server, "ops-manager", PASSWORD)
    page.click("#content-main tr.model-call th a")
    page.wait_for_selector("#result_list")
    page.click(f"text={call.vapi_id[:8]}")
    timeline = page.locator("#conversation")
    timeline.wait_for()
    assert "Where is my order NW-48213?" in timeline.inner_text()
    assert page.locator('#conversation [data-role="user"]').count() == 1
    assert "lookup_order_status" in timeline.inner_text()
    assert page.locator("audio").get_attribute("src") == "https://storage.example.com/recordings/demo.wav"
    assert "Riley confirmed" in page.locator("#analysis").inner_text()
    shot(page, "call-page")
    assert_no_csp_violations(page)
    # The ledger is folded away; opened, a failed event replays and we come back to the call.
    assert not page.locator("#events button:has-text('Replay')").is_visible()
    page.click("#events summary strong")
    page.click("#events button:has-text('Replay')")
    page.wait_for_selector(".messagelist")
    assert "Replayed event" in page.locator(".messagelist").inner_text()
    assert page.url.endswith(f"/admin/calls/call/{call.pk}/change/")


def test_viewer_opens_the_dashboard_and_sees_charts(page, live_server, call):
    CallFactory(outcome="busy", duration_seconds=20, cost=Decimal("0.05"))
    make_user("ops-viewer", group="Ops viewer")
    login(page, live_server, "ops-viewer", PASSWORD)
    page.click("#ops-dashboard-link a >> nth=0")
    page.wait_for_selector("svg#chart-calls-per-day")
    for chart in (
        "calls-per-day",
        "outcome-mix",
        "avg-duration",
        "cost-per-day",
        "tool-error-rate",
        "tool-p95",
    ):
        assert page.locator(f"svg#chart-{chart}").is_visible(), chart
    bars = page.locator("svg#chart-calls-per-day rect.bar")
    values = [bars.nth(i).get_attribute("data-value") for i in range(bars.count())]
    assert len(values) == 14 and sorted(values)[-1] == "2" and values.count("0") == 13
    slices = page.locator("svg#chart-outcome-mix circle.slice")
    assert sorted(slices.nth(i).get_attribute("data-label") for i in range(slices.count())) == [
        "Busy",
        "Completed",
    ]
    assert page.locator("#kpi-calls strong").inner_text() == "2"
    shot(page, "dashboard")
    assert_no_csp_violations(page)
    page.click("text=30 days")
    page.wait_for_url("**/admin/dashboard/?days=30")
    assert page.locator("svg#chart-calls-per-day text").count() > 0
