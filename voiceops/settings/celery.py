"""Celery: the broker (fail fast when Redis is down) and the one beat schedule of every periodic task."""

from celery.schedules import crontab

from voiceops.settings.core import env
from voiceops.settings.outbound import CAMPAIGN_TICK_SECONDS
from voiceops.settings.vapi import ASSISTANT_DRIFT_CHECK_SECONDS

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup would close the database connections around every task; voiceops.celery
# recycles them by CONN_MAX_AGE and health instead (a new Postgres backend per task was CPU).
CELERY_DB_REUSE_MAX = 10**9
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Publishing must not hang a web request when Redis is down: fail fast, the sweeper recovers.
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 0,
    "visibility_timeout": 3600,
}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = "UTC"

CELERY_BEAT_SCHEDULE: dict = {
    "webhook-events-sweep": {"task": "calls.sweep_webhook_events", "schedule": 60.0},
    "calls-reconcile": {"task": "calls.reconcile_calls", "schedule": 300.0},
    "tools-resume-deferred": {"task": "tools.tool_invocations_resume_deferred", "schedule": 60.0},
    "api-idempotency-purge": {
        "task": "voiceops.api.tasks.idempotency_records_purge_task",
        "schedule": 3600.0,
    },
    "assistants-drift-check": {
        "task": "assistants.tasks.assistants_drift_check_task",
        "schedule": float(ASSISTANT_DRIFT_CHECK_SECONDS),
        "options": {"expires": float(ASSISTANT_DRIFT_CHECK_SECONDS)},
    },
    "campaigns-tick": {
        "task": "calls.campaigns_tick",
        "schedule": CAMPAIGN_TICK_SECONDS,
        "options": {"expires": CAMPAIGN_TICK_SECONDS * 2},
    },
    "purge-expired-data": {
        "task": "retention.purge_expired_data",
        "schedule": crontab(hour=3, minute=30),
    },
}
