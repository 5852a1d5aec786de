"""API test fixtures: keys with chosen scopes and clients that send them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from voiceops.api.models import ApiKey
from voiceops.api.scopes import Scope

ALL_SCOPES = list(Scope.values)


def make_key(*scopes: str, **extra: Any) -> tuple[ApiKey, str]:
    return ApiKey.objects.create_key(
        name=f"test {'+'.join(scopes) or 'none'}"[:50], scopes=list(scopes), **extra
    )


@pytest.fixture
def client_with() -> Callable[..., APIClient]:
    """``client_with("read", "calls:write")`` -> an APIClient authenticated by a fresh key."""

    def build(*scopes: str, **extra: Any) -> APIClient:
        api_key, key = make_key(*scopes, **extra)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        client.api_key = api_key  # type: ignore[attr-defined]
        return client

    return build


@pytest.fixture
def reader(client_with) -> APIClient:
    return client_with(Scope.READ)


@pytest.fixture
def admin_client(client_with) -> APIClient:
    return client_with(Scope.ADMIN)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response carries the one error shape; returns its ``error`` object."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error
