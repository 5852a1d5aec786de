"""The ops dashboard: real numbers from real rows, drawn as SVG charts."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calls.models import Call
from calls.selectors.dashboard import dashboard_stats
from tests.factories import CallFactory, ToolInvocationFactory
from tools.models import ToolInvocation

pytestmark = pytest.mark.django_db


def at(days_ago: int, hour: int = 12) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def call_on(days_ago: int, *, outcome: str, duration: float | None, cost: str | None) -> Call:
    call = CallFactory(outcome=outcome, duration_seconds=duration, cost=Decimal(cost) if cost else None)
    Call.objects.filter(pk=call.pk).update(created_at=at(days_ago))
    return call


def invocation_on(days_ago: int, *, latency: float, failed: bool = False) -> None:
    inv = ToolInvocationFactory(latency_ms=latency, state="failed" if failed else "succeeded")
    ToolInvocation.objects.filter(pk=inv.pk).update(created_at=at(days_ago))


@pytest.fixture
def data():
    call_on(0, outcome="completed", duration=60, cost="0.50")
    call_on(0, outcome="completed", duration=120, cost="1.00")
    call_on(0, outcome="busy", duration=None, cost=None)
    call_on(2, outcome="no-answer", duration=30, cost="0.25")
    call_on(20, outcome="voicemail", duration=90, cost="2.00")  # outside 14 days, inside 30
    call_on(40, outcome="completed", duration=10, cost="9.00")  # outside every range
    for latency in range(1, 101):  # 100 invocations today, latencies 1..100 ms, 5 failed
        invocation_on(0, latency=float(latency), failed=latency % 20 == 0)
    invocation_on(2, latency=500.0, failed=True)


def test_stats_aggregate_by_day(data):
    stats = dashboard_stats(days=14)
    assert len(stats.days) == 14 and stats.days[-1].day == timezone.localdate()
    today, two_days_ago = stats.days[-1], stats.days[-3]
    assert (today.calls, today.cost, today.avg_duration) == (3, Decimal("1.50"), 90.0)
    assert (two_days_ago.calls, two_days_ago.cost) == (1, Decimal("0.25"))
    assert stats.total_calls == 4 and stats.total_cost == Decimal("1.75")
    assert stats.avg_duration == pytest.approx(70.0)  # (60 + 120 + 30) / 3
    assert dict((v, n) for v, _, n in stats.outcomes) == {"completed": 2, "busy": 1, "no-answer": 1}
    assert (today.tool_calls, today.tool_errors, today.tool_error_rate) == (100, 5, 5.0)
    assert today.p95_latency_ms == pytest.approx(95.05)  # percentile_cont over 1..100
    assert two_days_ago.tool_error_rate == 100.0 and two_days_ago.p95_latency_ms == 500.0
    assert stats.tool_calls == 101 and stats.tool_errors == 6
    assert dashboard_stats(days=30).total_calls == 5


def svg_values(html: str, chart_id: str) -> dict[str, float]:
    match = re.search(rf'<svg[^>]*id="{chart_id}".*?</svg>', html, re.S)
    assert match, f"chart {chart_id} missing"
    return {
        label: float(value)
        for label, value in re.findall(r'data-label="([^"]+)" data-value="([^"]+)"', match[0])
    }


def test_dashboard_renders_charts_with_real_numbers(data, viewer_client):
    with CaptureQueriesContext(connection) as ctx:
        response = viewer_client.get(reverse("ops-dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    today = timezone.localdate().strftime("%b %d")
    two_days_ago = (timezone.localdate() - dt.timedelta(days=2)).strftime("%b %d")
    calls = svg_values(html, "chart-calls-per-day")
    assert calls[today] == 3 and calls[two_days_ago] == 1 and sum(calls.values()) == 4 and len(calls) == 14
    assert svg_values(html, "chart-outcome-mix") == {"Completed": 2, "Busy": 1, "No answer": 1}
    assert svg_values(html, "chart-cost-per-day")[today] == 1.5
    assert svg_values(html, "chart-avg-duration")[today] == 90
    # A day without tool calls is a zero, not a gap in the chart.
    rates = svg_values(html, "chart-tool-error-rate")
    assert len(rates) == 14 and rates[today] == 5.0 and rates[two_days_ago] == 100.0
    assert sorted(set(rates.values())) == [0.0, 5.0, 100.0]
    assert svg_values(html, "chart-tool-p95")[today] == pytest.approx(95.0, abs=0.1)
    assert 'id="kpi-calls"><span>Calls</span><strong>4</strong>' in html
    assert "$1.75" in html
    dashboard_queries = [
        q for q in ctx.captured_queries if "calls_call" in q["sql"] or "tools_tool" in q["sql"]
    ]
    assert len(dashboard_queries) == 7  # five aggregates + campaign reach + appointments by campaign


def test_range_switch_and_bad_range(data, viewer_client):
    html = viewer_client.get(reverse("ops-dashboard") + "?days=30").content.decode()
    assert len(svg_values(html, "chart-calls-per-day")) == 30
    assert 'id="kpi-calls"><span>Calls</span><strong>5</strong>' in html
    response = viewer_client.get(reverse("ops-dashboard") + "?days=abc")
    assert response.status_code == 200
    assert "Range must be one of" in response.content.decode()


def test_empty_dashboard_renders(viewer_client):
    html = viewer_client.get(reverse("ops-dashboard")).content.decode()
    assert "No calls" in html and html.count('<svg class="vo-chart"') == 6


def test_dashboard_needs_call_view_permission(client, db):
    from django.contrib.auth.models import User

    User.objects.create_user("staff-no-perms", password="x-long-password-1", is_staff=True)
    client.login(username="staff-no-perms", password="x-long-password-1")
    assert client.get(reverse("ops-dashboard")).status_code == 403
    client.logout()
    assert client.get(reverse("ops-dashboard")).status_code == 302  # to the login page


def test_a_day_is_shown_by_hour_with_appointments_and_reach_per_campaign(viewer_client):
    import time_machine

    from tests.factories import AppointmentFactory, CampaignFactory

    noon = dt.datetime(2026, 3, 10, 12, 30, tzinfo=dt.UTC)
    with time_machine.travel(noon, tick=False):
        campaign = CampaignFactory(name="Spring recall")
        reached = CallFactory(campaign=campaign, outcome="completed", duration_seconds=90)
        CallFactory(campaign=campaign, outcome="busy")
        Call.objects.filter(pk=reached.pk).update(created_at=noon - dt.timedelta(hours=2))
        AppointmentFactory(call=reached)
        html = viewer_client.get(reverse("ops-dashboard") + "?days=1").content.decode()
    calls = svg_values(html, "chart-calls-per-day")
    assert len(calls) == 24 and calls["10:00"] == 1 and calls["12:00"] == 1 and sum(calls.values()) == 2
    assert "Calls per hour" in html
    assert 'id="kpi-appointments"><span>Appointments booked</span><strong>1</strong>' in html
    reach = re.search(r'id="campaign-reach".*?</table>', html, re.S).group(0)
    assert "<td>Spring recall</td><td>2</td><td>1</td><td>50%</td><td>1</td>" in reach


def test_reached_rate_follows_each_campaigns_reach_rules(viewer_client):
    """A completed call is reached only by the campaign's rules (issue 15): talk time, success
    evaluation, a structured-data field. Transfers are reached; Vapi's refusals are not calls ended."""
    import time_machine

    from tests.factories import CampaignFactory

    noon = dt.datetime(2026, 3, 10, 12, 30, tzinfo=dt.UTC)
    with time_machine.travel(noon, tick=False):
        talk = CampaignFactory(name="A talk time", reached_min_seconds=30)
        CallFactory(campaign=talk, outcome="completed", duration_seconds=12)  # hung up: not reached
        CallFactory(campaign=talk, outcome="completed", duration_seconds=45)
        CallFactory(campaign=talk, outcome="completed", duration_seconds=None)  # no talk time known
        CallFactory(  # no duration reported: end minus start, as the dialer reads it
            campaign=talk,
            outcome="completed",
            duration_seconds=None,
            started_at=noon - dt.timedelta(seconds=40),
            ended_at=noon,
        )
        CallFactory(campaign=talk, outcome="transferred", duration_seconds=5)
        CallFactory(campaign=talk, outcome="refused", duration_seconds=None)
        booked = CampaignFactory(name="B booked", reached_min_seconds=0, reached_structured_field="booked")
        CallFactory(
            campaign=booked, outcome="completed", duration_seconds=120, structured_data={"booked": False}
        )
        CallFactory(
            campaign=booked, outcome="completed", duration_seconds=120, structured_data={"booked": "no"}
        )
        CallFactory(campaign=booked, outcome="completed", duration_seconds=120, structured_data={})
        CallFactory(
            campaign=booked, outcome="completed", duration_seconds=60, structured_data={"booked": True}
        )
        CallFactory(campaign=booked, outcome="busy")
        graded = CampaignFactory(name="C graded", reached_requires_success=True)
        CallFactory(campaign=graded, outcome="completed", duration_seconds=60, success_evaluation="8")
        CallFactory(campaign=graded, outcome="completed", duration_seconds=60, success_evaluation="2")
        CallFactory(campaign=graded, outcome="completed", duration_seconds=60, success_evaluation="PASS")
        stats = dashboard_stats(days=1)
        html = viewer_client.get(reverse("ops-dashboard") + "?days=1").content.decode()
    rows = {c["name"]: (c["ended"], c["reached"]) for c in stats.campaigns}
    assert rows == {"A talk time": (5, 3), "B booked": (5, 1), "C graded": (3, 2)}
    reach = re.search(r'id="campaign-reach".*?</table>', html, re.S).group(0)
    assert "<td>A talk time</td><td>5</td><td>3</td><td>60%</td>" in reach
    assert "<td>B booked</td><td>5</td><td>1</td><td>20%</td>" in reach
