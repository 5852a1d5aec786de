"""django-axes stops password guessing on the admin login."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("ops", password=PASSWORD, is_staff=True, is_superuser=True)


def attempt(client, password, username="ops", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def test_correct_password_logs_in(client, staff):
    response = attempt(client, PASSWORD)
    assert response.status_code == 302 and response.url == "/admin/"


def test_locked_after_the_failure_limit_even_with_the_right_password(client, staff):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = attempt(client, "wrong")
        assert response.status_code == 200  # the form again, with an error
        assert b"Please enter the correct username and password" in response.content
    locked = attempt(client, "wrong")
    assert locked.status_code == 429
    assert attempt(client, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_spoofed_forwarded_for_header_does_not_reset_the_count(client, staff):
    for i in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong", headers={"X-Forwarded-For": f"198.51.100.{i}"})
    assert attempt(client, PASSWORD, headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429


def test_lockout_is_per_user_and_address_so_staff_elsewhere_are_not_locked_out(client, staff):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong")
    other_address = attempt(client, PASSWORD, REMOTE_ADDR="192.0.2.77")
    assert other_address.status_code == 302


def test_programmatic_authenticate_without_request_still_works(staff):
    from django.contrib.auth import authenticate

    assert authenticate(username="ops", password=PASSWORD) == staff
