"""voiceops settings (``DJANGO_SETTINGS_MODULE=voiceops.settings``), one module per concern.

Each setting is defined in exactly one of these modules; none patches another's values:

- ``core``: environment, INSTALLED_APPS, the one MIDDLEWARE stack, templates, i18n, static
- ``database``: Postgres, the connection budget, retention
- ``security``: headers and cookies, CSP, sign-in protection (axes), 2FA
- ``api``: DRF, API keys, idempotency, the OpenAPI schema
- ``vapi``: the Vapi client, webhooks, reconciliation, assistant push
- ``outbound``: calls voiceops places and campaigns
- ``celery``: the broker and the one beat schedule
- ``observability``: logging, metrics, Sentry
"""

from voiceops.settings.api import *  # noqa: F403
from voiceops.settings.celery import *  # noqa: F403
from voiceops.settings.core import *  # noqa: F403
from voiceops.settings.database import *  # noqa: F403
from voiceops.settings.observability import *  # noqa: F403
from voiceops.settings.outbound import *  # noqa: F403
from voiceops.settings.security import *  # noqa: F403
from voiceops.settings.vapi import *  # noqa: F403
