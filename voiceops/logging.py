"""Structured logging: structlog for our code, the same renderer for stdlib loggers.

Every line is one JSON object (or a readable key=value line with LOG_FORMAT=console).
Context such as ``call_id`` and ``request_id`` is bound with structlog's contextvars,
so it reaches every line of a webhook or task without being passed around.
Phone numbers must be passed through :func:`mask_number` before logging.
"""
from __future__ import annotations

import logging
from typing import Any

import structlog

SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


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
