"""The ops dashboard admin view: a thin shell around ``dashboard_stats`` and the SVG charts."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from calls.admin.dashboard.charts import bar_chart, donut_chart, line_chart
from calls.selectors.dashboard import dashboard_stats

RANGES = (1, 7, 14, 30, 90)
DEFAULT_RANGE = 14


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Calls per day, outcome mix, duration, cost, tool errors and p95 tool latency for a window."""
    if not request.user.has_perm("calls.view_call"):
        raise PermissionDenied
    days = DEFAULT_RANGE
    raw = request.GET.get("days")
    if raw is not None:
        if raw.isdigit() and int(raw) in RANGES:
            days = int(raw)
        else:
            messages.error(
                request, f"Range must be one of {', '.join(map(str, RANGES))} days; showing {days}."
            )
    data = dashboard_stats(days=days)
    labels = [d.day.strftime("%H:00" if data.hourly else "%b %d") for d in data.days]
    per = "hour" if data.hourly else "day"
    charts = {
        "calls_per_day": bar_chart(
            "chart-calls-per-day",
            f"Calls per {per}",
            list(zip(labels, [d.calls for d in data.days], strict=True)),
            integer=True,
        ),
        "outcome_mix": donut_chart(
            "chart-outcome-mix", "Outcome mix", [(lbl, n) for _, lbl, n in data.outcomes]
        ),
        "avg_duration": bar_chart(
            "chart-avg-duration",
            "Average duration (s)",
            list(
                zip(
                    labels,
                    [round(d.avg_duration or 0, 1) for d in data.days],
                    strict=True,
                )
            ),
            unit="s",
            color="#06b6d4",
        ),
        "cost_per_day": line_chart(
            "chart-cost-per-day",
            f"Cost per {per} ($)",
            list(zip(labels, [float(d.cost) for d in data.days], strict=True)),
            unit="$",
            color="#22c55e",
        ),
        "tool_error_rate": bar_chart(
            "chart-tool-error-rate",
            "Tool error rate (%)",
            list(
                zip(
                    labels,
                    [round(d.tool_error_rate or 0, 1) for d in data.days],
                    strict=True,
                )
            ),
            unit="%",
            color="#ef4444",
        ),
        "tool_p95": line_chart(
            "chart-tool-p95",
            "p95 tool latency (ms)",
            list(
                zip(
                    labels,
                    [round(d.p95_latency_ms or 0, 1) for d in data.days],
                    strict=True,
                )
            ),
            unit="ms",
            color="#a855f7",
        ),
    }
    context = {
        **admin.site.each_context(request),
        "title": "Ops dashboard",
        "data": data,
        "days": days,
        "ranges": RANGES,
        "charts": charts,
    }
    return TemplateResponse(request, "admin/calls/dashboard.html", context)
