"""Sentry error reporting, switched on only when SENTRY_DSN is set, with PII scrubbing.

Why the scrubber is this strict: voiceops handles callers' phone numbers, transcripts and
webhook bodies that may carry tool arguments (names, dates of birth). An error report needs
the stack and the code path, not the payload, so ``before_send`` drops request bodies,
cookies and all but a few harmless headers, and masks E.164 numbers and configured secrets
in every remaining string (messages, breadcrumbs, local variables).
"""

from __future__ import annotations

from typing import Any

from voiceops.logging import configured_secrets, redact_text

SAFE_HEADERS = frozenset(
    {"content-type", "content-length", "user-agent", "accept", "host", "x-request-id", "x-forwarded-proto"}
)
MAX_DEPTH = 12


def _scrub_value(value: Any, secrets: list[str], depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        return "[truncated]"
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {k: _scrub_value(v, secrets, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v, secrets, depth + 1) for v in value]
    return value


def _scrub_request(request: dict[str, Any]) -> dict[str, Any]:
    request = dict(request)
    request.pop("data", None)  # the body: webhook payloads, form posts (passwords), API input
    request.pop("cookies", None)
    request.pop("env", None)
    if request.get("query_string"):
        request["query_string"] = "[filtered]"
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {k: v for k, v in headers.items() if k.lower() in SAFE_HEADERS}
    return request


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """``before_send`` / ``before_send_transaction``: drop bodies and secrets, mask numbers."""
    secrets = configured_secrets()
    event = dict(event)
    if isinstance(event.get("request"), dict):
        event["request"] = _scrub_request(event["request"])
    event.pop("user", None)
    return _scrub_value(event, secrets)


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> bool:
    """Initialise sentry-sdk when a DSN is configured. Returns whether it was switched on."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=scrub_event,  # type: ignore[arg-type]
        before_send_transaction=scrub_event,  # type: ignore[arg-type]
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
    return True
