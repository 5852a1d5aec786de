"""The Django project itself: environment, apps, the middleware stack, templates, i18n, static.

Every value comes from the environment (django-environ). Defaults are safe for production
(DEBUG off, secure cookies when not DEBUG); `.env` beside manage.py is read when present, and
`.env.example` documents all names. The other modules of this package import ``env`` and
``DEBUG`` from here.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

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
    "voiceops.simulator",
    "voiceops.api",
    "tools",
    "assistants",
    "calls",
    "django_structlog",
    "django_prometheus",
    "csp",
    "axes",
    "voiceops.retention",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "voiceops.console",
]

MIDDLEWARE = [
    # POST /webhooks/vapi/ skips everything below but SecurityMiddleware (docs/SCALING.md).
    "calls.webhooks.middleware.WebhookFastPathMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "voiceops.middleware.DatabaseUnavailableMiddleware",  # a DB outage anywhere inside -> JSON 503
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Serves the admin's static files from STATIC_ROOT under gunicorn (make demo, production).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Two-factor admin sign-in (django-otp): ADMIN_REQUIRE_2FA in settings/security.py.
    "django_otp.middleware.OTPMiddleware",
    "voiceops.console.two_factor.Require2FAMiddleware",
    # Display time zone of the console: each person may pick their own (Your console settings).
    "voiceops.console.middleware.DisplayTimeZoneMiddleware",
    # request_id (and user_id) bound for every line of a request, after authentication ran.
    "django_structlog.middlewares.RequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "voiceops.middleware.PrometheusAfterMiddleware",  # django-prometheus', robust to bad Content-Length
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

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Display time zone of the ops console (issue 18): each person may pick their own.
CONSOLE_TIME_ZONE = env.str("CONSOLE_TIME_ZONE", default=TIME_ZONE)
FORMAT_MODULE_PATH = ["voiceops.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="US")
PHONENUMBER_DB_FORMAT = "E164"
