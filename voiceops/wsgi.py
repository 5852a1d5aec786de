"""WSGI entry point (gunicorn voiceops.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")
application = get_wsgi_application()
