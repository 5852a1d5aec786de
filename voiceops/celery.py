"""The Celery app. Configured from Django settings under the ``CELERY_`` namespace."""

import os
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voiceops.settings")

app = Celery("voiceops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Campaign tasks live in their own package (calls/campaigns/tasks.py), beside calls/tasks.py.
app.autodiscover_tasks(["calls.campaigns"])

# django-structlog: bind task_id and the publisher's request_id/call_id on every worker line.
app.steps["worker"].add(DjangoStructLogInitStep)


@task_prerun.connect
@task_postrun.connect
def _database_connections_recycle(sender: Task | None = None, **kwargs: Any) -> None:
    """Keep a task's database connection for the next one, as Django's request cycle does.

    Celery's Django fixup closes every connection before and after each task unless
    ``CELERY_DB_REUSE_MAX`` is set (settings/celery.py sets it out of reach), so each task paid
    for a new Postgres backend and our prepared statements again: about 40 connections a
    second in the campaign bench. Here a connection is closed only when it is broken, in a
    failed transaction or older than ``CONN_MAX_AGE``. Eager tasks run inside their caller's
    transaction and are left alone.
    """
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    close_old_connections()
