"""Every registered model's changelist, add and change page, for each role.

Iterates ``admin.site._registry``, so models other areas register are covered too.
Expected: superuser and manager get 200 (add: 200 unless the admin declares the model
read-only, then 403); a manager gets 403 on user management and secrets; a viewer gets 200
on changelists and change pages (read-only) and 403 on every add page.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from calls.roles import is_protected
from tests.admin.instances import instance_of

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
IDS = [model._meta.label for model, _ in REGISTERED]
READ_ONLY_LEDGERS = {
    "calls.WebhookEvent",
    "tools.ToolInvocation",
    "calls.TranscriptTurn",
    "calls.Call",
    "calls.DispatchDecision",
    "calls.DialAttempt",
}


def urls(model: type[Model], obj: Model) -> dict[str, str]:
    info = (model._meta.app_label, model._meta.model_name)
    return {
        "changelist": reverse("admin:{}_{}_changelist".format(*info)),
        "add": reverse("admin:{}_{}_add".format(*info)),
        "change": reverse("admin:{}_{}_change".format(*info), args=[obj.pk]),
    }


def addable(model_admin: admin.ModelAdmin, client: Client, user) -> bool:
    request = client.get(reverse("admin:index")).wsgi_request
    request.user = user
    return model_admin.has_add_permission(request)


def get(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code != 500, url
    return response.status_code


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=IDS)
def test_superuser_sees_every_page(model, model_admin, superuser, superuser_client):
    page = urls(model, instance_of(model))
    assert get(superuser_client, page["changelist"]) == 200
    assert get(superuser_client, page["change"]) == 200
    expected_add = 200 if addable(model_admin, superuser_client, superuser) else 403
    assert get(superuser_client, page["add"]) == expected_add
    if model._meta.label in READ_ONLY_LEDGERS:
        assert expected_add == 403, f"{model._meta.label} is a ledger and must not be addable"


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=IDS)
def test_manager_pages(model, model_admin, manager, manager_client):
    page = urls(model, instance_of(model))
    if is_protected(model._meta.app_label, model._meta.model_name):
        assert [get(manager_client, url) for url in page.values()] == [403, 403, 403]
        return
    assert get(manager_client, page["changelist"]) == 200
    assert get(manager_client, page["change"]) == 200
    expected_add = 200 if addable(model_admin, manager_client, manager) else 403
    assert get(manager_client, page["add"]) == expected_add


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=IDS)
def test_viewer_reads_but_never_adds(model, model_admin, viewer_client):
    page = urls(model, instance_of(model))
    if is_protected(model._meta.app_label, model._meta.model_name):
        assert [get(viewer_client, url) for url in page.values()] == [403, 403, 403]
        return
    assert get(viewer_client, page["changelist"]) == 200
    change = viewer_client.get(page["change"])
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode(), "a viewer must get a read-only page"
    assert get(viewer_client, page["add"]) == 403


def test_viewer_cannot_post_a_change(viewer_client):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(name="Dana")
    url = reverse("admin:calls_customer_change", args=[customer.pk])
    response = viewer_client.post(url, {"number": str(customer.number), "name": "Changed"})
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.name == "Dana"


def test_admin_index_links_dashboard(viewer_client):
    response = viewer_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert reverse("ops-dashboard") in response.content.decode()
