"""API keys: 401 without/with a bad key, 403 without the scope, admin implies all, throttling."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from tests.api.conftest import assert_error, make_key
from voiceops.api.models import ApiKey
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


def test_missing_key_is_401_with_error_shape_and_challenge():
    response = APIClient().get(URL)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize(
    "header",
    ["Api-Key nonsense", "Api-Key abcdefgh.0123456789abcdef0123456789abcdef", "Api-Key ", "Api-Key a\x00b"],
)
def test_bad_key_is_401(header):
    response = APIClient().get(URL, HTTP_AUTHORIZATION=header)
    assert_error(response, 401, "invalid_api_key")


def test_other_auth_scheme_is_401():
    assert_error(APIClient().get(URL, HTTP_AUTHORIZATION="Bearer abc"), 401, "not_authenticated")


def test_revoked_and_expired_keys_are_refused():
    revoked, key = make_key(Scope.READ)
    revoked.revoked = True
    revoked.save()
    assert_error(APIClient().get(URL, HTTP_AUTHORIZATION=f"Api-Key {key}"), 401, "invalid_api_key")
    _, key = make_key(Scope.READ, expiry_date=timezone.now() - dt.timedelta(minutes=1))
    assert_error(APIClient().get(URL, HTTP_AUTHORIZATION=f"Api-Key {key}"), 401, "expired_api_key")


def test_valid_key_reads_and_records_last_use(reader):
    assert reader.get(URL).status_code == 200
    assert ApiKey.objects.get(pk=reader.api_key.pk).last_used_at is not None


def test_key_without_scope_is_403_naming_the_scope(client_with):
    client = client_with(Scope.CALLS_WRITE)
    error = assert_error(client.get(URL), 403, "insufficient_scope")
    assert "'read'" in error["message"]


def test_admin_scope_implies_every_scope(admin_client):
    assert admin_client.get(URL).status_code == 200
    response = admin_client.post(URL, {"number": "+12025550111"}, format="json")
    assert response.status_code == 201, response.json()


def test_throttle_per_key_answers_429_with_retry_after(client_with, settings):
    cache.clear()
    settings.API_THROTTLE_RATE = "3/min"
    client = client_with(Scope.READ)
    for _ in range(3):
        assert client.get(URL).status_code == 200
    response = client.get(URL)
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    # Another key has its own budget.
    assert client_with(Scope.READ).get(URL).status_code == 200


def test_key_rate_limit_overrides_the_default(client_with, settings):
    cache.clear()
    settings.API_THROTTLE_RATE = "1000/min"
    client = client_with(Scope.READ, rate_limit="1/min")
    assert client.get(URL).status_code == 200
    assert_error(client.get(URL), 429, "throttled")


def test_create_api_key_prints_the_key_last(capsys):
    call_command("create_api_key", "billing", "--scopes", "read", "calls:write,campaigns:write")
    out = capsys.readouterr().out.strip().splitlines()
    key = out[-1]
    api_key = ApiKey.objects.get_from_key(key)
    assert api_key.name == "billing"
    assert sorted(api_key.scopes) == ["calls:write", "campaigns:write", "read"]
    assert key not in api_key.hashed_key  # stored hashed
    assert APIClient().get(URL, HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200


def test_create_api_key_refuses_unknown_scope():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_api_key", "x", "--scopes", "calls:delete")
    assert not ApiKey.objects.exists()


def test_database_refuses_unknown_scopes():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        ApiKey.objects.create_key(name="bad", scopes=["root"])
