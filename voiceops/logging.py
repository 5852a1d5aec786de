"""Structured logging: structlog for our code, the same renderer for stdlib loggers.

Every line is one JSON object (or a readable key=value line with LOG_FORMAT=console).
Context such as ``call_id`` and ``request_id`` is bound with structlog's contextvars,
so it reaches every line of a webhook or task without being passed around:
django-structlog's middleware binds ``request_id`` per request, its Celery receiver
carries the publisher's context (request_id, call_id) into the task, and
:func:`bind_call_id` adds the Vapi call id once the webhook or task knows it.

Phone numbers must be passed through :func:`mask_number` before logging. As defense in
depth, :func:`redact_line` runs on every rendered line and masks anything that still
looks like a full E.164 number or equals a configured secret, so one forgotten
``mask_number`` (or a number inside an exception message) never reaches the log store.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import Any

import structlog

SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]

# "+" then 7 to 15 digits, optionally split by one space, dot, dash or parentheses the way
# humans write numbers (+1 (555) 555-0123). Bare digit runs are not matched on purpose:
# epoch-millisecond timestamps and ids would be masked too.
E164_PATTERN = re.compile(r"\+[1-9](?:[\s().-]{0,2}\d){6,14}")
REDACTED = "[redacted]"
# Secrets shorter than this are not searched for: a 3-character "secret" would shred every line.
MIN_SECRET_LENGTH = 8


def _mask_match(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return mask_number(f"+{digits}")


def configured_secrets() -> list[str]:
    """The secret values that must never be logged, read from settings at call time.

    Read every time (not cached) so a rotated secret or a test override is honoured; it is a
    handful of attribute reads, cheap next to rendering JSON.
    """
    try:
        from django.conf import settings

        if not settings.configured:
            return []
        values: list[str] = []
        for name in ("VAPI_API_KEY", "SECRET_KEY", "SENTRY_DSN", "METRICS_TOKEN"):
            value = getattr(settings, name, "") or ""
            if isinstance(value, str):
                values.append(value)
        for secret in getattr(settings, "VAPI_WEBHOOK_SECRET", []) or []:
            values.append(str(secret))
        return sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
    except Exception:  # noqa: BLE001 - logging must never fail because settings are odd
        return []


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    """Mask full phone numbers and configured secrets in one string."""
    for secret in configured_secrets() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "+" in text:
        text = E164_PATTERN.sub(_mask_match, text)
    return text


def redact_line(logger: Any, method_name: str, rendered: Any) -> Any:
    """Last processor, after the renderer: scrub the final line whatever produced it."""
    if isinstance(rendered, str):
        return redact_text(rendered)
    if isinstance(rendered, bytes):
        return redact_text(rendered.decode("utf-8", "replace")).encode("utf-8")
    return rendered


class RedactingFilter(logging.Filter):
    """Stdlib filter for handlers that do not use our formatter (defense in depth).

    Renders the message once, scrubs it and freezes it into ``record.msg`` so a plain
    ``%(message)s`` formatter cannot leak what the arguments carried.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) or record.args:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001
                return True
            record.msg, record.args = redact_text(message), None
        return True


def formatter(fmt: str = "json") -> logging.Formatter:
    """Build the stdlib formatter that renders both structlog and plain log records."""
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
            redact_line,
        ],
    )


def configure_structlog() -> None:
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def mask_number(number: object) -> str:
    """Keep a phone number recognisable for support without logging it whole: +1555***0123."""
    text = str(number or "")
    if len(text) <= 6:
        return "***" if text else ""
    return f"{text[:4]}***{text[-4:]}"


def bind_call_id(vapi_call_id: str | None) -> None:
    """Bind the Vapi call id for every following line of this request or task.

    django-structlog clears the contextvars at the end of each request and task, so a
    webhook view or a task calls this as soon as it has parsed the call id and forgets it.
    Tasks enqueued afterwards inherit it through django-structlog's Celery headers.
    """
    if vapi_call_id:
        structlog.contextvars.bind_contextvars(call_id=str(vapi_call_id)[:64])


@contextlib.contextmanager
def call_context(vapi_call_id: str | None, **extra: Any) -> Iterator[None]:
    """Bind the call id (and extra keys) for a block, restoring the previous context after."""
    values = {k: v for k, v in extra.items() if v is not None}
    if vapi_call_id:
        values["call_id"] = str(vapi_call_id)[:64]
    with structlog.contextvars.bound_contextvars(**values):
        yield
