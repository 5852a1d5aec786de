"""Settings for the test suite: production settings with test-only environment defaults.

Only environment defaults change here, so tests exercise the same settings module that
production runs. DATABASE_URL/REDIS_URL may still be overridden from the environment.
"""

import os

_DEFAULTS = {
    "SECRET_KEY": "test-secret-key-not-for-production",
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "VAPI_API_KEY": "test-vapi-private-key-0f3b",
    "VAPI_BASE_URL": "http://vapi.test",
    "VAPI_WEBHOOK_SECRET": "whsec-current-7a1d,whsec-previous-55c2",
    "PUBLIC_BASE_URL": "https://voiceops.example.com",
    "CELERY_TASK_ALWAYS_EAGER": "1",
    "VAPI_RETRIES": "2",
    "LOG_FORMAT": "json",
}
for _key, _value in _DEFAULTS.items():
    os.environ.setdefault(_key, _value)

from voiceops.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_EAGER_PROPAGATES = True

# The unit suite runs webhooks with eager Celery dispatch and per-request commits, so a
# webhook's effect is visible when the test client returns. What ships (notify dispatch,
# group commit) is what the fault tests' servers run: tests/faults/child_settings.py.
from voiceops.settings import VAPI_WEBHOOK_DISPATCH as SHIPPED_WEBHOOK_DISPATCH  # noqa: E402,F401
from voiceops.settings import VAPI_WEBHOOK_GROUP_COMMIT as SHIPPED_WEBHOOK_GROUP_COMMIT  # noqa: E402,F401

VAPI_WEBHOOK_DISPATCH = "celery"
VAPI_WEBHOOK_GROUP_COMMIT = False
