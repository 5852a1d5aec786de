"""Structured logs (one line per event, secrets redacted), Prometheus metrics, Sentry.

Importing this module configures structlog and, when SENTRY_DSN is set, sentry-sdk.
"""

from typing import Any

from voiceops.logging import configure_structlog
from voiceops.sentry import sentry_init
from voiceops.settings.core import env

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {"()": "voiceops.logging.formatter", "fmt": LOG_FORMAT},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "structured", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
    "filters": {"redact": {"()": "voiceops.logging.RedactingFilter"}},
}

configure_structlog()

# Keep our JSON log format in workers (Celery would otherwise replace the root handler).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
DJANGO_STRUCTLOG_CELERY_ENABLED = True  # task_id + the publisher's request_id/call_id in task logs

METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_DB_CACHE_SECONDS = env.float("METRICS_DB_CACHE_SECONDS", default=5.0)
METRICS_DB_TIMEOUT_MS = env.int("METRICS_DB_TIMEOUT_MS", default=500)

SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENABLED = sentry_init(
    dsn=SENTRY_DSN,
    environment=env.str("SENTRY_ENVIRONMENT", default=""),
    release=env.str("SENTRY_RELEASE", default=""),
    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)
