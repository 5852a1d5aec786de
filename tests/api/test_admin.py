"""API keys in the admin: scopes as checkboxes, the secret shown once and stored only hashed."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from rest_framework.test import APIClient

from voiceops.api.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-not-used")
    client.force_login(user)
    return client


def test_add_key_shows_the_secret_once(staff):
    response = staff.post(
        "/admin/api/apikey/add/",
        {"name": "crm", "scopes": ["read", "customers:write"], "rate_limit": "100/min"},
    )
    assert response.status_code == 302, response.content[:2000]
    messages = " ".join(str(m) for m in get_messages(response.wsgi_request))
    key = re.search(r"[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}", messages).group(0)
    api_key = ApiKey.objects.get()
    assert sorted(api_key.scopes) == ["customers:write", "read"] and api_key.rate_limit == "100/min"
    assert key not in api_key.hashed_key and api_key.hashed_key.startswith("sha512$$")
    assert APIClient().get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    # Shown on the page after the redirect, then never again.
    assert key in staff.get(response.url).content.decode()
    page = staff.get(f"/admin/api/apikey/{api_key.pk}/change/").content.decode()
    assert key not in page and key.split(".")[1] not in page


def test_bad_rate_limit_is_a_form_error(staff):
    response = staff.post("/admin/api/apikey/add/", {"name": "x", "scopes": ["read"], "rate_limit": "lots"})
    assert response.status_code == 200
    assert "Use a rate such as" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_key_list_page(staff):
    ApiKey.objects.create_key(name="svc", scopes=["read"])
    assert "svc" in staff.get("/admin/api/apikey/").content.decode()
