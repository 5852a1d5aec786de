"""Dashboard aggregates over a date range: a fixed handful of GROUP BY queries, whatever the table size.

Each query filters on an indexed timestamp (``created_at``) and groups by day in Postgres, so the
work grows with the rows in the window, not the table, and the number of queries is constant (five).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Aggregate,
    Avg,
    BooleanField,
    Case,
    Count,
    F,
    FloatField,
    Func,
    JSONField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate, TruncHour
from django.utils import timezone

from calls.campaigns.services.reached import REACHED_OUTCOMES, analysis_reached, long_enough_q
from calls.enums import Outcome
from calls.models import Call, Campaign
from tools.models import Appointment, AppointmentStatus, InvocationState, ToolInvocation


class PercentileCont(Aggregate):
    """Postgres ``percentile_cont(p) WITHIN GROUP (ORDER BY expr)``; Django has no built-in for it."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, percentile: float, **extra: Any) -> None:
        if not 0 <= percentile <= 1:
            raise ValueError("percentile must be within [0, 1]")
        super().__init__(expression, percentile=float(percentile), **extra)


@dataclass
class DayStats:
    """One bucket of the charts: a day, or an hour when the range is a single day."""

    day: dt.date | dt.datetime
    calls: int = 0
    cost: Decimal = Decimal("0")
    avg_duration: float | None = None
    tool_calls: int = 0
    tool_errors: int = 0
    p95_latency_ms: float | None = None

    @property
    def tool_error_rate(self) -> float | None:
        return (self.tool_errors / self.tool_calls * 100) if self.tool_calls else None


@dataclass
class DashboardData:
    start: dt.date
    end: dt.date
    days: list[DayStats]
    outcomes: list[tuple[str, str, int]] = field(default_factory=list)  # (value, label, count)
    total_calls: int = 0
    total_cost: Decimal = Decimal("0")
    avg_duration: float | None = None
    tool_calls: int = 0
    tool_errors: int = 0
    p95_latency_ms: float | None = None
    appointments_booked: int = 0
    hourly: bool = False
    campaigns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tool_error_rate(self) -> float | None:
        return (self.tool_errors / self.tool_calls * 100) if self.tool_calls else None


def _buckets(*, days: int, today: dt.date, tz: Any) -> tuple[dt.datetime, dt.datetime, list[Any], Any]:
    """(since, until, bucket keys, truncation): 24 hours ending now for one day, else days."""
    if days == 1:
        now = timezone.localtime(timezone.now(), tz).replace(minute=0, second=0, microsecond=0)
        first = now - dt.timedelta(hours=23)
        keys = [first + dt.timedelta(hours=i) for i in range(24)]
        return first, now + dt.timedelta(hours=1), keys, TruncHour
    start = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return since, until, [start + dt.timedelta(days=i) for i in range(days)], TruncDate


def _key(value: Any, tz: Any) -> Any:
    return timezone.localtime(value, tz) if isinstance(value, dt.datetime) else value


def dashboard_stats(*, days: int, today: dt.date | None = None) -> DashboardData:
    """Per-day call, cost, duration and tool figures for the ``days`` days ending today (local time)."""
    tz = timezone.get_current_timezone()
    today = today or timezone.localdate()
    since, until, keys, trunc = _buckets(days=days, today=today, tz=tz)
    start = since.date()
    by_day = {key: DayStats(day=key) for key in keys}

    calls = Call.objects.filter(created_at__gte=since, created_at__lt=until)
    for row in (
        calls.annotate(day=trunc("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"), cost=Sum("cost"), avg_duration=Avg("duration_seconds"))
        .order_by()
    ):
        stats = by_day.get(_key(row["day"], tz))
        if stats is not None:
            stats.calls = row["n"]
            stats.cost = row["cost"] or Decimal("0")
            stats.avg_duration = row["avg_duration"]

    labels = dict(Outcome.choices)
    outcome_rows = calls.values("outcome").annotate(n=Count("id")).order_by("-n", "outcome")
    outcomes = [
        (r["outcome"], labels.get(r["outcome"], r["outcome"] or "Not ended"), r["n"]) for r in outcome_rows
    ]

    invocations = ToolInvocation.objects.filter(created_at__gte=since, created_at__lt=until)
    tool_rows = list(
        invocations.annotate(day=trunc("created_at", tzinfo=tz))
        .values("day")
        .annotate(
            n=Count("id"),
            errors=Count("id", filter=Q(state=InvocationState.FAILED)),
            p95=PercentileCont("latency_ms", 0.95),
        )
        .order_by()
    )
    for tool_row in tool_rows:
        stats = by_day.get(_key(tool_row["day"], tz))
        if stats is not None:
            stats.tool_calls, stats.tool_errors = tool_row["n"], tool_row["errors"]
            stats.p95_latency_ms = tool_row["p95"]
    overall = invocations.aggregate(p95=PercentileCont("latency_ms", 0.95))

    ordered = [by_day[d] for d in sorted(by_day)]
    total_calls = sum(d.calls for d in ordered)
    return DashboardData(
        start=start,
        end=today,
        days=ordered,
        outcomes=outcomes,
        total_calls=total_calls,
        total_cost=sum((d.cost for d in ordered), Decimal("0")),
        avg_duration=calls.aggregate(avg=Avg("duration_seconds"))["avg"],
        tool_calls=sum(d.tool_calls for d in ordered),
        tool_errors=sum(d.tool_errors for d in ordered),
        p95_latency_ms=overall["p95"],
        appointments_booked=Appointment.objects.filter(created_at__gte=since, created_at__lt=until)
        .exclude(status=AppointmentStatus.CANCELLED)
        .count(),
        hourly=days == 1,
        campaigns=campaign_rows(calls=calls, since=since, until=until),
    )


def campaign_rows(*, calls: Any, since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """Per campaign in the window: calls ended, reached by the campaign's own reach rules (as the
    dialer judges them, ``reached``), appointments booked.

    One GROUP BY: completed calls are grouped by what the rules read (long enough, the success
    evaluation, the structured field) so Python applies the analysis rules once per distinct value
    rather than once per call. Refusals by Vapi never rang and are not counted as ended.
    """
    completed = Q(outcome=Outcome.COMPLETED)
    groups = (
        calls.filter(campaign__isnull=False)
        .exclude(outcome__in=["", Outcome.REFUSED])
        .annotate(
            long_enough=Case(
                When(completed & long_enough_q(), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            success=Case(
                When(completed & Q(campaign__reached_requires_success=True), then=F("success_evaluation")),
                default=Value(""),
            ),
            field_value=Case(
                When(
                    completed & ~Q(campaign__reached_structured_field=""),
                    then=Func(
                        F("structured_data"),
                        F("campaign__reached_structured_field"),
                        function="jsonb_extract_path",
                    ),
                ),
                default=None,
                output_field=JSONField(),
            ),
        )
        .values(
            "campaign",
            "campaign__name",
            "campaign__reached_requires_success",
            "campaign__reached_structured_field",
            "outcome",
            "long_enough",
            "success",
            "field_value",
        )
        .annotate(n=Count("id"))
        .order_by()
    )
    totals: dict[int, dict[str, Any]] = {}
    for group in groups:
        row = totals.setdefault(
            group["campaign"], {"name": group["campaign__name"], "ended": 0, "reached": 0}
        )
        row["ended"] += group["n"]
        rules = Campaign(
            reached_requires_success=group["campaign__reached_requires_success"],
            reached_structured_field=group["campaign__reached_structured_field"],
        )
        if group["outcome"] in REACHED_OUTCOMES and (
            group["outcome"] != Outcome.COMPLETED
            or group["long_enough"]
            and analysis_reached(
                campaign=rules, success_evaluation=group["success"], field_value=group["field_value"]
            )
        ):
            row["reached"] += group["n"]
    booked = dict(
        Appointment.objects.filter(created_at__gte=since, created_at__lt=until, call__campaign__isnull=False)
        .exclude(status=AppointmentStatus.CANCELLED)
        .values_list("call__campaign")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        {
            **row,
            "reached_rate": (row["reached"] / row["ended"] * 100) if row["ended"] else None,
            "booked": booked.get(campaign_id, 0),
        }
        for campaign_id, row in sorted(totals.items(), key=lambda item: (item[1]["name"], item[0]))
    ]
