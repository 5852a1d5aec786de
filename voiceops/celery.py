"""The Celery app. Configured from Django settings under the ``CELERY_`` namespace."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")

app = Celery("voiceops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Campaign tasks live beside the webhook area's calls/tasks.py (separate owners, no merge clashes).
app.autodiscover_tasks(["calls"], related_name="tasks_campaigns")
