"""CSV exports of calls, campaign recipients (with their outcomes) and dispatch decisions.

One column list per export, shared by the admin ("Export CSV" on a filtered list) and the
API (``.../export/`` with the list's own filters). Rows stream out of a server-side cursor
(``iterator``), so a big export neither holds the table in memory nor times out a worker on
building it first. Written with the standard library's ``csv`` module.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from calls.models import Call, CampaignRecipient, DispatchDecision

Column = tuple[str, Callable[[Any], Any]]


def _iso(value: Any) -> str:
    return value.isoformat() if value else ""


def _safe(value: Any) -> str:
    """Spreadsheet formula injection: a cell starting with = + - @ is read as text."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


CALL_COLUMNS: list[Column] = [
    ("vapi_call_id", lambda c: c.vapi_id),
    ("created_at", lambda c: _iso(c.created_at)),
    ("started_at", lambda c: _iso(c.started_at)),
    ("ended_at", lambda c: _iso(c.ended_at)),
    ("direction", lambda c: c.direction),
    ("status", lambda c: c.status),
    ("outcome", lambda c: c.outcome),
    ("ended_reason", lambda c: c.ended_reason),
    ("duration_seconds", lambda c: "" if c.duration_seconds is None else round(c.duration_seconds, 1)),
    ("cost_usd", lambda c: "" if c.cost is None else c.cost),
    ("customer_name", lambda c: c.customer.name if c.customer else ""),
    ("customer_number", lambda c: c.customer_number),
    ("assistant", lambda c: c.assistant.name if c.assistant else ""),
    ("campaign", lambda c: c.campaign.name if c.campaign else ""),
    ("success_evaluation", lambda c: c.success_evaluation),
    ("summary", lambda c: c.summary),
]
RECIPIENT_COLUMNS: list[Column] = [
    ("campaign", lambda r: r.campaign.name),
    ("name", lambda r: r.name),
    ("number", lambda r: str(r.number)),
    ("state", lambda r: r.state),
    ("attempts", lambda r: r.attempts),
    ("last_outcome", lambda r: r.last_outcome),
    ("next_attempt_at", lambda r: _iso(r.next_attempt_at)),
    ("last_error", lambda r: r.last_error),
    ("created_at", lambda r: _iso(r.created_at)),
    ("updated_at", lambda r: _iso(r.updated_at)),
]
DECISION_COLUMNS: list[Column] = [
    ("at", lambda d: _iso(d.at)),
    ("rule", lambda d: d.rule),
    ("allowed", lambda d: "yes" if d.allowed else "no"),
    ("campaign", lambda d: d.campaign.name if d.campaign_id else ""),
    ("number", lambda d: str(d.customer.number) if d.customer_id else ""),
    ("detail", lambda d: d.detail),
]


def call_export_rows(queryset: QuerySet[Call]) -> Iterator[list[Any]]:
    calls = queryset.select_related("customer", "assistant", "campaign").defer(
        "vapi_call", "transcript_text", "cost_breakdown", "performance_metrics", "scorecards"
    )
    return _rows(calls, CALL_COLUMNS)


def recipient_export_rows(queryset: QuerySet[CampaignRecipient]) -> Iterator[list[Any]]:
    return _rows(queryset.select_related("campaign"), RECIPIENT_COLUMNS)


def decision_export_rows(queryset: QuerySet[DispatchDecision]) -> Iterator[list[Any]]:
    return _rows(queryset.select_related("campaign", "customer"), DECISION_COLUMNS)


def _rows(queryset: QuerySet[Any], columns: list[Column]) -> Iterator[list[Any]]:
    yield [name for name, _ in columns]
    for obj in queryset.iterator(chunk_size=2000):
        yield [_safe(get(obj)) for _, get in columns]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[list[Any]], *, name: str) -> StreamingHttpResponse:
    """A streamed CSV download named ``<name>-<UTC time>.csv`` (UTF-8 with BOM for Excel)."""
    writer = csv.writer(_Echo())

    def stream() -> Iterator[str]:
        yield "\ufeff"
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response
