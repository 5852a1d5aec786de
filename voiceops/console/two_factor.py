"""Two-factor sign-in for the admin (django-otp, TOTP authenticator apps).

Anyone may add an authenticator; once they have one, the login asks for its code. With
``ADMIN_REQUIRE_2FA`` on, ops managers and superusers (who can change what callers hear and
who gets called) must sign in with a code: without a device they are sent to set one up
before any other admin page opens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from calls.roles import OPS_MANAGER


class ConsoleLoginForm(AdminAuthenticationForm, OTPAuthenticationFormMixin):
    """Password, then the authenticator code for people who have an authenticator."""

    otp_device = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_token = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    otp_challenge = forms.CharField(required=False)

    def clean(self) -> dict[str, Any]:
        self.cleaned_data = super().clean()
        user = self.get_user()
        devices = list(devices_for_user(user, confirmed=True)) if user is not None else []
        if devices:
            # One code field: the user's (first) authenticator is the device it is checked against.
            if not self.cleaned_data.get("otp_device"):
                self.cleaned_data["otp_device"] = devices[0].persistent_id
            self.clean_otp(user)
        return self.cleaned_data


def must_use_2fa(user: Any) -> bool:
    if not getattr(settings, "ADMIN_REQUIRE_2FA", False) or not user.is_authenticated:
        return False
    return bool(user.is_superuser or user.groups.filter(name=OPS_MANAGER).exists())


EXEMPT_NAMES = ("admin:login", "admin:logout", "console-2fa-setup", "admin:jsi18n")


class Require2FAMiddleware:
    """Managers who signed in without a code are sent to set up (or use) an authenticator."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.exempt: tuple[str, ...] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/admin/"):
            if self.exempt is None:
                self.exempt = tuple(reverse(name) for name in EXEMPT_NAMES)
            user = getattr(request, "user", None)
            if (
                user is not None
                and request.path not in self.exempt
                and must_use_2fa(user)
                and not user.is_verified()
            ):
                return redirect("console-2fa-setup")
        return self.get_response(request)


class ConfirmForm(forms.Form):
    token = forms.CharField(label="Code from your app", max_length=8)


@login_required(login_url="admin:login")
def two_factor_setup_view(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: scan the QR code, type a code to confirm it."""
    user = request.user
    if user.is_verified():  # type: ignore[union-attr]
        messages.info(request, "Two-factor sign-in is set up; you signed in with a code.")
        return redirect("admin:index")
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed is not None:
        # Has an authenticator but signed in without it (before the rule was switched on).
        form = ConfirmForm(request.POST or None)
        if (
            request.method == "POST"
            and form.is_valid()
            and confirmed.verify_token(form.cleaned_data["token"])
        ):
            otp_login(request, confirmed)
            return redirect("admin:index")
        if request.method == "POST":
            form.add_error("token", "That code is not right; codes change every 30 seconds.")
        return render(request, "console/two_factor.html", _context(request, form=form, device=None))
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Authenticator"}
    )
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is on. Next time, the login asks for a code.")
            return redirect("admin:index")
        form.add_error("token", "That code is not right; codes change every 30 seconds.")
    return render(request, "console/two_factor.html", _context(request, form=form, device=device))


def _context(request: HttpRequest, *, form: forms.Form, device: TOTPDevice | None) -> dict[str, Any]:
    import segno

    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Two-factor sign-in",
        "form": form,
        "required": must_use_2fa(request.user),
    }
    if device is not None:
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_inline(scale=4)
        context["secret"] = device.config_url.split("secret=")[1].split("&")[0]
    return context
