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


def _project_api_key() -> Model:
    from voiceops.api.models import ApiKey

    key, _ = ApiKey.objects.create_key(name="admin-test-project-key", scopes=["read"])
    return key


def _idempotency_record() -> Model:
    from voiceops.api.models import IdempotencyRecord

    return IdempotencyRecord.objects.create(
        api_key=_project_api_key(), key="admin-test-idem", request_hash="0" * 64, locked_at=timezone.now()
    )


def _dial_attempt() -> Model:
    from calls.models import DialAttempt

    return DialAttempt.objects.create(idempotency_key="admin-test-attempt", number="+12025550100")


def _dispatch_decision() -> Model:
    from calls.models import DispatchDecision

    return DispatchDecision.objects.create(
        at=timezone.now(), rule="allowed", allowed=True, detail="admin test"
    )


def _outbound_switch() -> Model:
    from calls.models import OutboundSwitch

    return OutboundSwitch.objects.get_or_create(pk=1)[0]


def _totp_device() -> Model:
    from django.contrib.auth.models import User
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = User.objects.get_or_create(username="admin-test-otp-user")[0]
    return TOTPDevice.objects.create(user=user, name="admin test phone", confirmed=True)


_AXES = {
    "user_agent": "pytest",
    "ip_address": "127.0.0.1",
    "username": "someone",
    "http_accept": "*/*",
    "path_info": "/admin/login/",
}

BUILDERS: dict[str, Callable[[], Model]] = {
    "api.ApiKey": _project_api_key,
    "api.IdempotencyRecord": _idempotency_record,
    "axes.AccessAttempt": _simple(
        "axes.AccessAttempt", **_AXES, get_data="", post_data="", failures_since_start=1
    ),
    "axes.AccessLog": _simple("axes.AccessLog", **_AXES),
    "axes.AccessFailureLog": _simple("axes.AccessFailureLog", **_AXES),
    "calls.DialAttempt": _dial_attempt,
    "calls.DispatchDecision": _dispatch_decision,
    "calls.OutboundSwitch": _outbound_switch,
    "otp_totp.TOTPDevice": _totp_device,
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
