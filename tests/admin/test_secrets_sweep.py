"""No admin page renders a secret: the Vapi key, webhook secrets, SECRET_KEY or an API key."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from tests.admin.instances import instance_of
from tests.factories import CallFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db


def test_no_page_renders_a_secret(superuser_client):
    from voiceops.api.models import ApiKey

    # (The key's pk embeds its SHA-512 hash by the library's design; only the key itself is secret.)
    _, full_key = ApiKey.objects.create_key(name="sweep-key", scopes=["read"])
    call = CallFactory(vapi_call={"assistant": {"server": {"secret": settings.VAPI_WEBHOOK_SECRET[0]}}})
    WebhookEventFactory(
        vapi_call_id=call.vapi_id,
        body=json.dumps(
            {"message": {"type": "status-update", "authorization": f"Bearer {settings.VAPI_API_KEY}"}}
        ),
        headers={"authorization": f"Bearer {settings.VAPI_WEBHOOK_SECRET[1]}"},
    )
    secrets = {
        "VAPI_API_KEY": settings.VAPI_API_KEY,
        "SECRET_KEY": settings.SECRET_KEY,
        "api key": full_key,
        **{f"webhook secret {i}": s for i, s in enumerate(settings.VAPI_WEBHOOK_SECRET)},
    }
    urls = [reverse("admin:index"), reverse("ops-dashboard")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        for obj in model._default_manager.all()[:3] or [instance_of(model)]:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    leaks = {}
    for url in urls:
        html = superuser_client.get(url).content.decode()
        found = [name for name, value in secrets.items() if value and value in html]
        if found:
            leaks[url] = found
    assert leaks == {}
