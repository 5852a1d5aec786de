"""voiceops settings. Every value comes from the environment (django-environ).

Defaults are safe for production (DEBUG off, secure cookies when not DEBUG);
`.env` beside manage.py is read when present, and `.env.example` documents all names.
"""

import datetime as dt
import os
from pathlib import Path
from typing import Any

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="" if not DEBUG else "dev-insecure-secret-key-change-me")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see .env.example).")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "simple_history",
    "phonenumber_field",
    "voiceops.vapi",
    "voiceops.api",
    "tools",
    "assistants",
    "calls",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's static files from STATIC_ROOT under gunicorn (make demo, production).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "voiceops.urls"
WSGI_APPLICATION = "voiceops.wsgi.application"
ASGI_APPLICATION = "voiceops.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "voiceops" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/voiceops"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# --- the Postgres connection budget (voiceops/connections.py, docs/SCALING.md) ----------------
# Each DB-touching thread holds one connection, so these pool sizes fix the total. The processes
# read the same names: scripts/web and gunicorn.conf.py (WEB_*), the Celery worker (its
# concurrency comes from CELERY_WORKER_CONCURRENCY below), Procfile/compose (one ledger, one beat).
WEB_WORKERS_DEFAULT_MAX = 4  # one process per core, at most 4 unless WEB_WORKERS says otherwise
WEB_WORKERS = env.int("WEB_WORKERS", default=min(os.cpu_count() or 1, WEB_WORKERS_DEFAULT_MAX))
WEB_THREADS = env.int("WEB_THREADS", default=4)
LEDGER_WORKERS = env.int("LEDGER_WORKERS", default=1)
CELERY_WORKERS = env.int("CELERY_WORKERS", default=1)  # worker processes (hosts/replicas) you run
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=4)
DB_MAX_CONNECTIONS = env.int("DB_MAX_CONNECTIONS", default=100)  # Postgres's max_connections
# Kept free: superuser slots (3), shells, migrations, monitoring, a second deploy's start-up.
DB_RESERVED_CONNECTIONS = env.int("DB_RESERVED_CONNECTIONS", default=10)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A dead database must fail fast (webhook answers 503) rather than hang a worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=3)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- security (production values unless DEBUG) -------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Django's own upload limit must not undercut the webhook's limit (end-of-call reports are big).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=16 * 1024 * 1024)

# --- Celery ----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
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
}

# --- Vapi --------------------------------------------------------------------------------
VAPI_API_KEY = env.str("VAPI_API_KEY", default="")
VAPI_BASE_URL = env.str("VAPI_BASE_URL", default="https://api.vapi.ai").rstrip("/")
VAPI_PHONE_NUMBER_ID = env.str("VAPI_PHONE_NUMBER_ID", default="")
VAPI_TIMEOUT_CONNECT = env.float("VAPI_TIMEOUT_CONNECT", default=3.05)
VAPI_TIMEOUT_READ = env.float("VAPI_TIMEOUT_READ", default=15.0)
VAPI_RETRIES = env.int("VAPI_RETRIES", default=3)
VAPI_WEBHOOK_SECRET = [s for s in env.list("VAPI_WEBHOOK_SECRET", default=[]) if s]
VAPI_WEBHOOK_AUTH = env.list("VAPI_WEBHOOK_AUTH", default=["secret", "bearer", "hmac"])
VAPI_WEBHOOK_MAX_BYTES = env.int("VAPI_WEBHOOK_MAX_BYTES", default=8 * 1024 * 1024)
VAPI_WEBHOOK_BEARER_HEADER = env.str("VAPI_WEBHOOK_BEARER_HEADER", default="Authorization")
VAPI_WEBHOOK_HMAC_ALGORITHM = env.str("VAPI_WEBHOOK_HMAC_ALGORITHM", default="sha256")
VAPI_WEBHOOK_HMAC_SIGNATURE_HEADER = env.str("VAPI_WEBHOOK_HMAC_SIGNATURE_HEADER", default="x-signature")
VAPI_WEBHOOK_HMAC_TIMESTAMP_HEADER = env.str("VAPI_WEBHOOK_HMAC_TIMESTAMP_HEADER", default="x-timestamp")
VAPI_WEBHOOK_HMAC_PREFIX = env.str("VAPI_WEBHOOK_HMAC_PREFIX", default="")
VAPI_WEBHOOK_HMAC_ENCODING = env.str("VAPI_WEBHOOK_HMAC_ENCODING", default="hex")
VAPI_WEBHOOK_HMAC_PAYLOAD_FORMAT = env.str("VAPI_WEBHOOK_HMAC_PAYLOAD_FORMAT", default="{timestamp}.{body}")
VAPI_WEBHOOK_HMAC_TOLERANCE_SECONDS = env.int("VAPI_WEBHOOK_HMAC_TOLERANCE_SECONDS", default=300)
VAPI_WEBHOOK_HMAC_SECRET_IS_BASE64 = env.bool("VAPI_WEBHOOK_HMAC_SECRET_IS_BASE64", default=False)
# Deeper JSON than this is refused with 400 before anything walks it recursively.
VAPI_WEBHOOK_MAX_DEPTH = env.int("VAPI_WEBHOOK_MAX_DEPTH", default=64)
# High-volume informational types: "store" keeps them in the ledger (marked ignored, never
# processed), "count" only counts them. Partial transcripts are named "transcript-partial".
VAPI_WEBHOOK_HIGH_VOLUME_TYPES = env.list(
    "VAPI_WEBHOOK_HIGH_VOLUME_TYPES", default=["speech-update", "transcript-partial", "model-output"]
)
VAPI_WEBHOOK_HIGH_VOLUME_MODE = env.str("VAPI_WEBHOOK_HIGH_VOLUME_MODE", default="store")
# How stored events reach a worker: "celery" publishes one Celery message per event after
# commit; "notify" sends a Postgres NOTIFY from the INSERT itself (no Redis on the request
# path) and `manage.py webhook_worker` claims pending rows in batches with SKIP LOCKED.
# "notify" is the default (docs/SCALING.md): it needs `manage.py webhook_worker` running.
VAPI_WEBHOOK_DISPATCH = env.str("VAPI_WEBHOOK_DISPATCH", default="notify")
# Group commit: informational webhooks of one process share one INSERT and one commit; each
# request is answered only after the commit that holds its row.
VAPI_WEBHOOK_GROUP_COMMIT = env.bool("VAPI_WEBHOOK_GROUP_COMMIT", default=True)
VAPI_WEBHOOK_GROUP_COMMIT_MAX_ROWS = env.int("VAPI_WEBHOOK_GROUP_COMMIT_MAX_ROWS", default=64)
# After a failed publish, skip publishing for this long (events wait for the sweeper).
VAPI_WEBHOOK_BROKER_BACKOFF_SECONDS = env.float("VAPI_WEBHOOK_BROKER_BACKOFF_SECONDS", default=5.0)
VAPI_WEBHOOK_SWEEP_AFTER_SECONDS = env.int("VAPI_WEBHOOK_SWEEP_AFTER_SECONDS", default=60)
VAPI_WEBHOOK_MAX_ATTEMPTS = env.int("VAPI_WEBHOOK_MAX_ATTEMPTS", default=5)
# Reconciliation: a call not ended this many minutes after it should have is fetched from Vapi.
VAPI_RECONCILE_GRACE_MINUTES = env.int("VAPI_RECONCILE_GRACE_MINUTES", default=10)
VAPI_RECONCILE_LOOKBACK_HOURS = env.int("VAPI_RECONCILE_LOOKBACK_HOURS", default=48)
# Discovery: list Vapi's calls (GET /call) and record those no webhook ever stored here. Windows
# end VAPI_RECONCILE_GRACE_MINUTES ago, start VAPI_DISCOVER_OVERLAP_MINUTES before the last one
# ended, and are read at most VAPI_DISCOVER_MAX_PAGES pages of VAPI_DISCOVER_PAGE_SIZE per tick.
VAPI_DISCOVER_ENABLED = env.bool("VAPI_DISCOVER_ENABLED", default=True)
VAPI_DISCOVER_PAGE_SIZE = min(max(env.int("VAPI_DISCOVER_PAGE_SIZE", default=100), 1), 1000)
VAPI_DISCOVER_MAX_PAGES = max(env.int("VAPI_DISCOVER_MAX_PAGES", default=10), 1)
VAPI_DISCOVER_OVERLAP_MINUTES = env.float("VAPI_DISCOVER_OVERLAP_MINUTES", default=5.0)
VAPI_DEFAULT_MAX_DURATION_SECONDS = env.int("VAPI_DEFAULT_MAX_DURATION_SECONDS", default=600)
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- DRF -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "voiceops.api.errors.api_exception_handler",
}
# API keys: per-key throttle (a key's own rate_limit wins) and Idempotency-Key timing.
API_THROTTLE_RATE = env.str("API_THROTTLE_RATE", default="600/min")
API_THROTTLE_CACHE = env.str("API_THROTTLE_CACHE", default="default")
API_IDEMPOTENCY_WAIT_SECONDS = env.float("API_IDEMPOTENCY_WAIT_SECONDS", default=5.0)
API_IDEMPOTENCY_LOCK_SECONDS = env.float("API_IDEMPOTENCY_LOCK_SECONDS", default=120.0)
API_IDEMPOTENCY_RETENTION_HOURS = env.int("API_IDEMPOTENCY_RETENTION_HOURS", default=24)
CELERY_BEAT_SCHEDULE["api-idempotency-purge"] = {
    "task": "voiceops.api.tasks.idempotency_records_purge_task",
    "schedule": 3600.0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "voiceops API",
    "DESCRIPTION": "Operations backend for Vapi voice agents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["voiceops.api.schema.api_endpoints_only"],
    # Choice sets whose field names repeat across resources get their own schema names.
    "ENUM_NAME_OVERRIDES": {
        "RoutingRuleActionEnum": "assistants.models.RuleAction",
        "CallControlActionEnum": "calls.models.control.ControlAction",
        "CallControlStateEnum": "calls.models.control.ControlState",
    },
    # Swagger UI and Redoc from the installed drf-spectacular-sidecar package: nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="US")
PHONENUMBER_DB_FORMAT = "E164"

# --- assistants: push to Vapi, the server block pushed with them --------------------------
# Longest Retry-After the REST client waits in-process; longer 429s go back to the Celery task.
VAPI_RETRY_AFTER_MAX = env.float("VAPI_RETRY_AFTER_MAX", default=30.0)
# Which webhook credential voiceops keeps in Vapi: hmac, bearer or secret (X-Vapi-Secret).
# Empty = the first of hmac/bearer/secret that VAPI_WEBHOOK_AUTH accepts.
VAPI_WEBHOOK_CREDENTIAL_TYPE = env.str("VAPI_WEBHOOK_CREDENTIAL_TYPE", default="")
VAPI_SERVER_TIMEOUT_SECONDS = env.int("VAPI_SERVER_TIMEOUT_SECONDS", default=20)
VAPI_SERVER_BACKOFF_TYPE = env.str("VAPI_SERVER_BACKOFF_TYPE", default="exponential")
VAPI_SERVER_BACKOFF_MAX_RETRIES = env.int("VAPI_SERVER_BACKOFF_MAX_RETRIES", default=3)
VAPI_SERVER_BACKOFF_BASE_DELAY_SECONDS = env.float("VAPI_SERVER_BACKOFF_BASE_DELAY_SECONDS", default=1.0)
ASSISTANT_PUSH_ON_SAVE = env.bool("ASSISTANT_PUSH_ON_SAVE", default=False)
ASSISTANT_PUSH_MAX_RETRIES = env.int("ASSISTANT_PUSH_MAX_RETRIES", default=2)
ASSISTANT_DRIFT_CHECK_SECONDS = env.int("ASSISTANT_DRIFT_CHECK_SECONDS", default=900)
CELERY_BEAT_SCHEDULE["assistants-drift-check"] = {
    "task": "assistants.tasks.assistants_drift_check_task",
    "schedule": float(ASSISTANT_DRIFT_CHECK_SECONDS),
    "options": {"expires": float(ASSISTANT_DRIFT_CHECK_SECONDS)},
}

# --- logging: structured, one line per event --------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {"()": "voiceops.logging.formatter", "fmt": LOG_FORMAT},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

from voiceops.logging import configure_structlog  # noqa: E402

configure_structlog()

# --- outbound campaigns ---------------------------------------------------------------------
# Per-customer cap across every campaign and single call: dials in a rolling window.
OUTBOUND_CUSTOMER_MAX_ATTEMPTS = env.int("OUTBOUND_CUSTOMER_MAX_ATTEMPTS", default=5)
OUTBOUND_CUSTOMER_WINDOW_HOURS = env.int("OUTBOUND_CUSTOMER_WINDOW_HOURS", default=24)
# Crash recovery of dial attempts (calls/campaigns/services/recovery.py).
OUTBOUND_RESERVED_STALE_SECONDS = env.int("OUTBOUND_RESERVED_STALE_SECONDS", default=60)
OUTBOUND_REQUESTING_STALE_SECONDS = env.int("OUTBOUND_REQUESTING_STALE_SECONDS", default=120)
OUTBOUND_LOST_AFTER_SECONDS = env.int("OUTBOUND_LOST_AFTER_SECONDS", default=600)
# Unknown attempts are looked up at 5 s, 10 s, 20 s ... (at most every 5 min), and given up after
# OUTBOUND_RECONCILE_MAX_LOOKUPS looks once OUTBOUND_LOST_AFTER_SECONDS have passed.
OUTBOUND_RECONCILE_BASE_SECONDS = env.float("OUTBOUND_RECONCILE_BASE_SECONDS", default=5.0)
OUTBOUND_RECONCILE_MAX_SECONDS = env.float("OUTBOUND_RECONCILE_MAX_SECONDS", default=300.0)
OUTBOUND_RECONCILE_MAX_LOOKUPS = env.int("OUTBOUND_RECONCILE_MAX_LOOKUPS", default=8)
# The org's concurrent-call limit at Vapi (10 by default; Vapi's subscriptionLimits win when
# reported), and how many of those slots outbound calls leave free for inbound callers.
VAPI_CONCURRENCY_LIMIT = env.int("VAPI_CONCURRENCY_LIMIT", default=10)
OUTBOUND_INBOUND_RESERVE = env.int("OUTBOUND_INBOUND_RESERVE", default=2)
# A refusal without Retry-After (429, concurrency limit) waits 5 s, 10 s, 20 s ... at most 5 min.
OUTBOUND_REFUSAL_BACKOFF_SECONDS = env.float("OUTBOUND_REFUSAL_BACKOFF_SECONDS", default=5.0)
OUTBOUND_REFUSAL_BACKOFF_MAX_SECONDS = env.float("OUTBOUND_REFUSAL_BACKOFF_MAX_SECONDS", default=300.0)
# campaign.predial (Vapi-run campaigns): the calling window in the contact's local time, and
# whether a recorded consent is required before Vapi may dial.
PREDIAL_WINDOW_START = dt.time.fromisoformat(env.str("PREDIAL_WINDOW_START", default="08:00"))
PREDIAL_WINDOW_END = dt.time.fromisoformat(env.str("PREDIAL_WINDOW_END", default="21:00"))
PREDIAL_REQUIRES_CONSENT = env.bool("PREDIAL_REQUIRES_CONSENT", default=False)
# A call that ended but whose campaign effects were not applied is repaired after this long.
OUTBOUND_STALL_REPAIR_SECONDS = env.float("OUTBOUND_STALL_REPAIR_SECONDS", default=15.0)
# A retry decided from a status-update (no report yet) waits at least this long, so the report
# can correct it before anyone is dialled again.
OUTBOUND_REPORT_GRACE_SECONDS = env.float("OUTBOUND_REPORT_GRACE_SECONDS", default=120.0)
CAMPAIGN_TICK_SECONDS = env.float("CAMPAIGN_TICK_SECONDS", default=3.0)
# POST /call requests of one dispatch round in flight at once (HTTP-only threads: no DB connection).
CAMPAIGN_DIAL_CONCURRENCY = env.int("CAMPAIGN_DIAL_CONCURRENCY", default=4)
CELERY_BEAT_SCHEDULE["campaigns-tick"] = {
    "task": "calls.campaigns_tick",
    "schedule": CAMPAIGN_TICK_SECONDS,
    "options": {"expires": CAMPAIGN_TICK_SECONDS * 2},
}

# --- hardening: observability, security headers, login protection, retention ---------------
# Kept in one block appended here so the shared lists above stay untouched (trivial merges).
INSTALLED_APPS += ["django_structlog", "django_prometheus", "csp", "axes", "voiceops.retention"]
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "voiceops.middleware.DatabaseUnavailableMiddleware",  # a DB outage anywhere inside -> JSON 503
    *MIDDLEWARE[:1],  # SecurityMiddleware
    "csp.middleware.CSPMiddleware",
    *MIDDLEWARE[1:],
    "axes.middleware.AxesMiddleware",
    "voiceops.middleware.PrometheusAfterMiddleware",  # django-prometheus', robust to bad Content-Length
]
# request_id (and user_id) bound for every line of a request, after authentication ran.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_structlog.middlewares.RequestMiddleware",
)
# POST /webhooks/vapi/ skips everything above but SecurityMiddleware (docs/SCALING.md).
MIDDLEWARE.insert(0, "calls.webhooks.middleware.WebhookFastPathMiddleware")
# Keep our JSON log format in workers (Celery would otherwise replace the root handler).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
DJANGO_STRUCTLOG_CELERY_ENABLED = True  # task_id + the publisher's request_id/call_id in task logs
LOGGING["filters"] = {"redact": {"()": "voiceops.logging.RedactingFilter"}}
LOGGING["handlers"]["console"]["filters"] = ["redact"]

METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_DB_CACHE_SECONDS = env.float("METRICS_DB_CACHE_SECONDS", default=5.0)
METRICS_DB_TIMEOUT_MS = env.int("METRICS_DB_TIMEOUT_MS", default=500)

from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

AUTHENTICATION_BACKENDS = [
    "voiceops.auth.AxesLoginBackend",  # AxesStandaloneBackend: refuses locked-out logins first
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
# Per user and address: a guesser is stopped without letting anyone lock real staff out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "voiceops.auth.client_ip"
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

RETENTION_DAYS = env.int("RETENTION_DAYS", default=90)
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=1000)
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["purge-expired-data"] = {
    "task": "retention.purge_expired_data",
    "schedule": crontab(hour=3, minute=30),
}

SENTRY_DSN = env.str("SENTRY_DSN", default="")
from voiceops.sentry import sentry_init  # noqa: E402

SENTRY_ENABLED = sentry_init(
    dsn=SENTRY_DSN,
    environment=env.str("SENTRY_ENVIRONMENT", default=""),
    release=env.str("SENTRY_RELEASE", default=""),
    traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
)

# --- ops console (issue 18): self-hosted API docs, display time zones, 2FA ------------------
INSTALLED_APPS += ["drf_spectacular_sidecar", "django_otp", "django_otp.plugins.otp_totp", "voiceops.console"]
# Display time zone of the console: each person may pick their own (Your console settings).
CONSOLE_TIME_ZONE = env.str("CONSOLE_TIME_ZONE", default=TIME_ZONE)
FORMAT_MODULE_PATH = ["voiceops.formats"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "voiceops.console.middleware.DisplayTimeZoneMiddleware",
)
# Two-factor admin sign-in (django-otp): required for managers and superusers when on.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="voiceops")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
    "voiceops.console.two_factor.Require2FAMiddleware",
)
