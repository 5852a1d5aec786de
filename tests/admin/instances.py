"""One saved instance of any model registered in the admin, for change-page tests.

Looks for ``<Model>Factory`` in tests.factories first (so models other areas add are covered
as soon as they add a factory), then for a builder below. A model with neither fails loudly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.utils import timezone

from tests import factories


def _periodic_task() -> Model:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(name="admin-test-task", task="celery.backend_cleanup", interval=every)


def _api_key() -> Model:
    from rest_framework_api_key.models import APIKey

    key, _ = APIKey.objects.create_key(name="admin-test-key")
    return key


def _simple(label: str, **fields: Any) -> Callable[[], Model]:
    def build() -> Model:
        from django.apps import apps

        return apps.get_model(label).objects.create(**fields)

    return build


BUILDERS: dict[str, Callable[[], Model]] = {
    "auth.Group": _simple("auth.Group", name="admin-test-group"),
    "auth.User": _simple("auth.User", username="admin-test-user"),
    "rest_framework_api_key.APIKey": _api_key,
    "django_celery_beat.PeriodicTask": _periodic_task,
    "django_celery_beat.IntervalSchedule": _simple(
        "django_celery_beat.IntervalSchedule", every=5, period="minutes"
    ),
    "django_celery_beat.CrontabSchedule": _simple("django_celery_beat.CrontabSchedule", minute="5"),
    "django_celery_beat.SolarSchedule": _simple(
        "django_celery_beat.SolarSchedule", event="sunrise", latitude=45, longitude=-122
    ),
    "django_celery_beat.ClockedSchedule": lambda: _simple(
        "django_celery_beat.ClockedSchedule", clocked_time=timezone.now() + dt.timedelta(days=1)
    )(),
}


def instance_of(model: type[Model]) -> Model:
    factory = getattr(factories, f"{model.__name__}Factory", None)
    if factory is not None and factory._meta.model is model:
        return factory()
    builder = BUILDERS.get(model._meta.label)
    if builder is None:
        raise AssertionError(
            f"{model._meta.label} is registered in the admin but has no factory in tests/factories.py "
            f"({model.__name__}Factory) nor a builder in tests/admin/instances.py"
        )
    return builder()
