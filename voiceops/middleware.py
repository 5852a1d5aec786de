"""Turn "the database is unreachable" into a fast, explicit 503 instead of a 500 page.

Why: when Postgres is down, a webhook sender (Vapi) and a load balancer should see
"unavailable, retry later" with a JSON body, not an HTML 500 that looks like a bug in the
payload. Connection attempts are bounded by ``connect_timeout`` (settings), so the 503 is
quick; ``CONN_HEALTH_CHECKS`` lets the next request reconnect once the database is back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import structlog
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_prometheus.middleware import PrometheusAfterMiddleware as _PrometheusAfterMiddleware
from django_prometheus.utils import Time

log = structlog.get_logger(__name__)

RETRY_AFTER_SECONDS = 5


def database_unavailable_response() -> JsonResponse:
    response = JsonResponse(
        {"error": "database_unavailable", "detail": "The database is unreachable; retry later."}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _note_database_error(sender: object, request: HttpRequest | None = None, **kwargs: object) -> None:
    """Mark the request when the exception Django is about to turn into a 500 is a DB outage.

    Django converts an exception into a response at every middleware layer, so an outer
    middleware only ever sees "500". This receiver (on ``got_request_exception``, sent for
    every such exception, in a view or in any middleware) keeps the reason on the request.
    """
    exception = sys.exc_info()[1]
    if request is not None and isinstance(exception, OperationalError | InterfaceError):
        request._voiceops_database_unavailable = True  # type: ignore[attr-defined]


got_request_exception.connect(_note_database_error, dispatch_uid="voiceops.database_unavailable")


class DatabaseUnavailableMiddleware:
    """Outermost but one: replaces the 500 of a database outage with a JSON 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 500 and getattr(request, "_voiceops_database_unavailable", False):
            log.error("database.unavailable", path=request.path)
            for conn in connections.all(initialized_only=True):
                conn.close_if_unusable_or_obsolete()
            return database_unavailable_response()
        return response


class PrometheusAfterMiddleware(_PrometheusAfterMiddleware):
    """django-prometheus' request metrics, tolerant of a malformed Content-Length header.

    The stock ``process_request`` does ``int(request.headers["content-length"])`` and turns
    ``Content-Length: ten`` into a 500 before the view can answer its 400. Same metrics here,
    with a malformed length observed as 0.
    """

    def process_request(self, request: HttpRequest) -> None:
        transport = self._transport(request)
        method = self._method(request)
        self.label_metric(self.metrics.requests_by_method, request, method=method).inc()
        self.label_metric(self.metrics.requests_by_transport, request, transport=transport).inc()
        if request.headers.get("x-requested-with") == "XMLHttpRequest":
            self.label_metric(self.metrics.requests_ajax, request).inc()
        try:
            content_length = max(0, int(request.headers.get("content-length") or 0))
        except ValueError:
            content_length = 0
        self.label_metric(self.metrics.requests_body_bytes, request).observe(content_length)
        request.prometheus_after_middleware_event = Time()  # type: ignore[attr-defined]
