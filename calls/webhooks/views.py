"""POST /webhooks/vapi/: authenticate, check the envelope, store, answer (DESIGN flow 1).

The view only translates HTTP: the size limit (413) before and after reading, the
credential check on raw bytes before parsing (401), the envelope (400), then one call
into the ledger service. Bodies are plain bytes built here so the hot path renders
nothing. Every error is a JSON object ``{"error": ..., "code": ...}``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

import structlog
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from calls.services.ingest import fallback_answer, webhook_receive
from voiceops import metrics
from voiceops.vapi.auth import WebhookAuthError, webhook_authenticate
from voiceops.vapi.messages import EnvelopeError, parse_server_message

log = structlog.get_logger(__name__)

_EMPTY = b"{}"
UNPARSED = "unparsed"  # the metrics' message type for requests refused before parsing
_STORED_HEADERS = ("User-Agent", "Content-Type", "Content-Length", "X-Forwarded-For", "X-Request-Id")


def _json(body: Any, status: int = 200) -> HttpResponse:
    content = _EMPTY if body == {} else json.dumps(body, separators=(",", ":")).encode()
    response = HttpResponse(content, status=status, content_type="application/json")
    # Set here: the webhook's short stack has no CommonMiddleware to add it (no chunked answers).
    response["Content-Length"] = str(len(content))
    return response


def _error(status: int, code: str, message: str) -> HttpResponse:
    return _json({"error": message, "code": code}, status=status)


def _stored_headers(request: HttpRequest, scheme: str) -> dict[str, str]:
    """Headers worth keeping for support; never the credential headers."""
    kept = {name.lower(): request.headers[name][:500] for name in _STORED_HEADERS if name in request.headers}
    timestamp_header = settings.VAPI_WEBHOOK_HMAC_TIMESTAMP_HEADER
    if scheme == "hmac" and timestamp_header in request.headers:
        kept[timestamp_header.lower()] = request.headers[timestamp_header][:100]
    kept["auth-scheme"] = scheme
    return kept


class _AlwaysJson(BaseContentNegotiation):
    """Vapi's Accept header must never turn an answer into a 406: we only speak JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class VapiWebhookView(APIView):
    """The server URL of every assistant and phone number. No session auth, no CSRF."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _AlwaysJson

    # Vapi's server URL, not part of the /api/ surface: kept out of the OpenAPI schema.
    @extend_schema(exclude=True)
    def post(self, request: Request) -> HttpResponse:
        started = time.perf_counter()
        response, message_type, outcome = self._handle(request._request)
        metrics.webhook_observed(message_type, outcome, time.perf_counter() - started)
        return response

    def _handle(self, django_request: HttpRequest) -> tuple[HttpResponse, str, str]:
        """The response, plus the message type and outcome the metrics count it under."""
        limit = settings.VAPI_WEBHOOK_MAX_BYTES
        declared = django_request.META.get("CONTENT_LENGTH") or "0"
        try:
            declared_length = int(declared)
        except ValueError:
            declared_length = -1
        if declared_length < 0:
            return (
                _error(400, "bad_content_length", "Content-Length must be a whole number."),
                UNPARSED,
                "invalid",
            )
        too_large = _error(413, "too_large", f"The body is larger than {limit} bytes.")
        if declared_length > limit:
            return too_large, UNPARSED, "too_large"
        body = django_request.read(limit + 1)
        if len(body) > limit:
            return too_large, UNPARSED, "too_large"

        try:
            scheme = webhook_authenticate(
                headers=django_request.headers,
                body=body,
                method=django_request.method or "POST",
                url=django_request.build_absolute_uri,
            )
        except WebhookAuthError as exc:
            refused = _error(401, "unauthorized", f"Webhook authentication failed ({exc.reason}).")
            return refused, UNPARSED, "unauthorized"

        try:
            parsed = parse_server_message(body, max_depth=settings.VAPI_WEBHOOK_MAX_DEPTH)
        except EnvelopeError as exc:
            log.info("webhook.bad_envelope", code=exc.code)
            return _error(400, exc.code, exc.reason), UNPARSED, "invalid"

        with structlog.contextvars.bound_contextvars(call_id=parsed.call_id, message_type=parsed.type):
            try:
                receipt = webhook_receive(
                    parsed=parsed, body=body, headers=_stored_headers(django_request, scheme)
                )
            except DatabaseError:
                log.exception("webhook.store_failed")
                if parsed.is_request_response:
                    # The caller is waiting: a speakable refusal beats Vapi's "no result".
                    return _json(fallback_answer(parsed=parsed)), parsed.type, "storage_unavailable"
                unavailable = _error(
                    503, "storage_unavailable", "The event could not be stored; retry later."
                )
                return unavailable, parsed.type, "storage_unavailable"
        return _json(receipt.answer), parsed.type, receipt.outcome

    def http_method_not_allowed(  # type: ignore[override]  # a plain JSON body, like every other error here
        self, request: Request, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        return _error(405, "method_not_allowed", "Only POST is accepted here.")
