"""Admin login protection (django-axes) and the client address it keys on."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest


class AxesLoginBackend(AxesStandaloneBackend):
    """Axes' lockout check for every login that arrives over HTTP.

    ``authenticate()`` without a request (the shell, a management command, Django's test
    client ``login()``) cannot be a network brute force, and stock Axes raises for it; we
    step aside and let the next backend decide. Logins through the admin always carry the
    request and are counted and locked as usual.
    """

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request: HttpRequest) -> str | None:
    """The address a login attempt came from, not one the client claims.

    X-Forwarded-For is trusted only for the TRUSTED_PROXY_COUNT proxies we run (counted from
    the right); otherwise an attacker would send a fresh fake address with every guess and
    never be locked out.
    """
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR")
