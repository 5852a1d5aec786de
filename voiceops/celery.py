"""The Celery app. Configured from Django settings under the ``CELERY_`` namespace."""

import os

from celery import Celery
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")

app = Celery("voiceops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Campaign tasks live in their own package (calls/campaigns/tasks.py), beside calls/tasks.py.
app.autodiscover_tasks(["calls.campaigns"])

# django-structlog: bind task_id and the publisher's request_id/call_id on every worker line.
app.steps["worker"].add(DjangoStructLogInitStep)
