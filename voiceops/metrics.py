"""Our Prometheus metrics, next to django-prometheus' request/DB metrics at ``/metrics``.

Other areas record through the small functions here (``metrics.webhook_observed(...)``)
rather than touching prometheus_client, so names, labels and cardinality stay in one place.

Why it looks like this:
- label values that come from payloads (message types, tool names, rules, reasons) go
  through :func:`_label`, which caps length and the number of distinct values per label:
  an authenticated but buggy sender must not be able to grow the registry without bound;
- the two gauges that describe the database (active campaign calls, sweeper backlog) are
  computed at scrape time by :class:`DatabaseCollector` with one indexed COUNT each, behind a
  short per-process cache and a statement timeout, so a scrape every few seconds stays cheap
  and a slow or dead database cannot hang ``/metrics``;
- recording functions never raise: a metrics bug must not fail a webhook.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = structlog.get_logger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
MAX_LABEL_VALUES = 64
MAX_LABEL_LENGTH = 64
OTHER = "other"

WEBHOOK_EVENTS = Counter(
    "voiceops_webhook_events_total",
    "Vapi webhook messages received, by message type and outcome (stored, duplicate, rejected...).",
    ["type", "outcome"],
)
WEBHOOK_LATENCY = Histogram(
    "voiceops_webhook_duration_seconds",
    "Time to answer a Vapi webhook, by message type.",
    ["type"],
    buckets=LATENCY_BUCKETS,
)
TOOL_LATENCY = Histogram(
    "voiceops_tool_duration_seconds",
    "Time to run one tool call, by tool name and outcome (ok, error, timeout, duplicate).",
    ["tool", "outcome"],
    buckets=LATENCY_BUCKETS,
)
DISPATCH_DECISIONS = Counter(
    "voiceops_dispatch_decisions_total",
    "Campaign dispatcher decisions per recipient, by the rule that decided (dialed, window, dnc, cap...).",
    ["rule"],
)
PUSH_FAILURES = Counter(
    "voiceops_push_failures_total",
    "Assistant pushes to Vapi that failed, by reason (bad_request, auth, rate_limited, server, unavailable).",
    ["reason"],
)
EVENTS_PROCESSED = Counter(
    "voiceops_webhook_events_processed_total",
    "Stored webhook events processed by workers or the sweeper, by message type and result.",
    ["type", "result"],
)
RETENTION_PURGED = Counter(
    "voiceops_retention_purged_total",
    "Items purged by the data retention job, by kind.",
    ["kind"],
)

# Vapi's documented message types (CONTRACT §4) always get their own label value; only
# types beyond these count against the cap.
KNOWN_MESSAGE_TYPES = frozenset(
    {
        "assistant-request",
        "tool-calls",
        "transfer-destination-request",
        "knowledge-base-request",
        "status-update",
        "transcript",
        'transcript[transcriptType="final"]',
        "end-of-call-report",
        "conversation-update",
        "speech-update",
        "hang",
        "user-interrupted",
        "transfer-update",
        "model-output",
        "language-change-detected",
        "phone-call-control",
        "handoff-destination-request",
        "voice-input",
    }
)
_always: dict[str, frozenset[str]] = {"type": KNOWN_MESSAGE_TYPES}
_seen: dict[str, set[str]] = {}
_seen_lock = threading.Lock()


def _label(name: str, value: object) -> str:
    """A bounded label value: at most MAX_LABEL_VALUES distinct values per label name."""
    text = str(value if value not in (None, "") else "unknown")[:MAX_LABEL_LENGTH]
    if text in _always.get(name, ()):
        return text
    with _seen_lock:
        seen = _seen.setdefault(name, set())
        if text in seen:
            return text
        if len(seen) >= MAX_LABEL_VALUES:
            return OTHER
        seen.add(text)
        return text


def _safe(fn: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - metrics must never break the caller
            log.warning("metrics.record_failed", metric=fn.__name__, exc_info=True)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


@_safe
def webhook_observed(message_type: str, outcome: str, seconds: float | None = None) -> None:
    """One webhook answered: count it by type/outcome and, when timed, observe its latency."""
    kind = _label("type", message_type)
    WEBHOOK_EVENTS.labels(type=kind, outcome=_label("outcome", outcome)).inc()
    if seconds is not None:
        WEBHOOK_LATENCY.labels(type=kind).observe(max(0.0, float(seconds)))


@_safe
def tool_observed(tool: str, outcome: str, seconds: float) -> None:
    """One tool call ran (or was answered from its recorded result)."""
    TOOL_LATENCY.labels(tool=_label("tool", tool), outcome=_label("tool_outcome", outcome)).observe(
        max(0.0, float(seconds))
    )


@_safe
def dispatch_decided(rule: str, count: int = 1) -> None:
    """The campaign dispatcher decided about ``count`` recipients by ``rule``."""
    if count > 0:
        DISPATCH_DECISIONS.labels(rule=_label("rule", rule)).inc(count)


@_safe
def push_failed(reason: str) -> None:
    """An assistant push to Vapi failed for ``reason``."""
    PUSH_FAILURES.labels(reason=_label("reason", reason)).inc()


@_safe
def event_processed(message_type: str, result: str) -> None:
    """A worker or the sweeper finished one stored event (processed, ignored, failed)."""
    EVENTS_PROCESSED.labels(type=_label("type", message_type), result=_label("result", result)).inc()


@_safe
def retention_purged(kind: str, count: int) -> None:
    if count > 0:
        RETENTION_PURGED.labels(kind=_label("kind", kind)).inc(count)


# --- gauges computed from the database at scrape time ---------------------------------------
ACTIVE_CALL_STATUSES = ("queued", "ringing", "in-progress", "forwarding")


def _database_gauges() -> dict[str, float]:
    """One COUNT per gauge, on indexed columns, under a statement timeout."""
    from django.db import connection, transaction
    from django.db.models import Count, Min

    from calls.enums import EventState
    from calls.models import Call, WebhookEvent

    timeout_ms = int(getattr(settings, "METRICS_DB_TIMEOUT_MS", 500))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(timeout_ms)])
        active = Call.objects.filter(campaign__isnull=False, status__in=ACTIVE_CALL_STATUSES).count()
        pending = WebhookEvent.objects.filter(state=EventState.RECEIVED).aggregate(
            backlog=Count("id"), oldest=Min("received_at")
        )
        backlog, oldest = pending["backlog"], pending["oldest"]
        # Restore: inside an outer transaction a SET LOCAL would outlive this block. (On an
        # error the savepoint rollback undoes the SET by itself.)
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
    age = 0.0
    if oldest is not None:
        from django.utils import timezone

        age = max(0.0, (timezone.now() - oldest).total_seconds())
    return {"active": float(active), "backlog": float(backlog), "backlog_age": age}


class DatabaseCollector(Collector):
    """Scrape-time gauges from the database, cached for METRICS_DB_CACHE_SECONDS per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: dict[str, float] | None = None
        self._cached_at = 0.0

    def reset(self) -> None:
        with self._lock:
            self._cached, self._cached_at = None, 0.0

    def _values(self) -> dict[str, float] | None:
        ttl = float(getattr(settings, "METRICS_DB_CACHE_SECONDS", 5.0))
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached_at < ttl:
                return self._cached
            try:
                self._cached = _database_gauges()
            except Exception as exc:  # noqa: BLE001 - a dead database must not break /metrics
                log.warning("metrics.database_gauges_failed", error=type(exc).__name__)
                self._cached = None
            self._cached_at = now
            return self._cached

    def describe(self) -> Iterator[Any]:
        # Describing must not touch the database (registration happens at import time).
        return iter(())

    def collect(self) -> Iterator[Any]:
        values = self._values()
        up = GaugeMetricFamily(
            "voiceops_metrics_database_up", "1 when the scrape-time database gauges could be computed."
        )
        up.add_metric([], 0.0 if values is None else 1.0)
        yield up
        if values is None:
            return
        yield GaugeMetricFamily(
            "voiceops_campaign_active_calls",
            "Campaign calls not yet ended (queued, ringing, in progress, forwarding).",
            value=values["active"],
        )
        yield GaugeMetricFamily(
            "voiceops_sweeper_backlog_events",
            "Stored webhook events still waiting to be processed.",
            value=values["backlog"],
        )
        yield GaugeMetricFamily(
            "voiceops_sweeper_backlog_oldest_seconds",
            "Age of the oldest unprocessed webhook event (0 when none).",
            value=values["backlog_age"],
        )


DATABASE_COLLECTOR = DatabaseCollector()
try:
    REGISTRY.register(DATABASE_COLLECTOR)
except ValueError:  # pragma: no cover - module re-imported (autoreload)
    pass


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``/metrics``: django-prometheus' exporter, behind an optional bearer token.

    The token (METRICS_TOKEN) is for deployments where the web port is public; a private
    scrape network can leave it empty.
    """
    import hmac

    from django_prometheus.exports import ExportToDjangoView

    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return HttpResponse("metrics token required\n", status=401, content_type="text/plain")
    return ExportToDjangoView(request)
