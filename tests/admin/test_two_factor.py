"""Two-factor admin sign-in (django-otp TOTP): optional for all, required for managers when on."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.admin.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def unthrottle(device: TOTPDevice) -> None:
    """A wrong code throttles the device for a second (django-otp); tests do not wait."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )


def login(client: Client, username: str, token: str = ""):
    return client.post(
        reverse("admin:login"), {"username": username, "password": PASSWORD, "otp_token": token}
    )


def test_a_user_with_an_authenticator_needs_its_code(db):
    user = make_user("ops-manager", group="Ops manager")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    response = login(client, "ops-manager")
    assert response.status_code == 200 and "OTP token" in str(response.context["form"].errors)
    response = login(client, "ops-manager", "000000" if code(device) != "000000" else "111111")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    unthrottle(device)
    response = login(client, "ops-manager", code(device))
    assert response.status_code == 302, response.context["form"].errors
    assert client.get(reverse("admin:index")).status_code == 200


def test_without_the_rule_a_password_is_enough(settings):
    settings.ADMIN_REQUIRE_2FA = False
    make_user("ops-manager", group="Ops manager")
    client = Client()
    assert login(client, "ops-manager").status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_with_the_rule_managers_must_set_up_a_device_first(settings):
    settings.ADMIN_REQUIRE_2FA = True
    user = make_user("ops-manager", group="Ops manager")
    client = Client()
    assert login(client, "ops-manager").status_code == 302
    # Every admin page sends them to set up an authenticator.
    response = client.get(reverse("admin:calls_call_changelist"))
    assert response.status_code == 302 and response["Location"] == reverse("console-2fa-setup")
    page = client.get(reverse("console-2fa-setup"))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post(reverse("console-2fa-setup"), {"token": "12345"}).status_code == 200
    unthrottle(device)
    response = client.post(reverse("console-2fa-setup"), {"token": code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("admin:calls_call_changelist")).status_code == 200


def test_with_the_rule_viewers_are_not_forced(settings):
    settings.ADMIN_REQUIRE_2FA = True
    make_user("ops-viewer", group="Ops viewer")
    client = Client()
    assert login(client, "ops-viewer").status_code == 302
    assert client.get(reverse("admin:calls_call_changelist")).status_code == 200
