"""The webhook's own short middleware stack: POST /webhooks/vapi/ skips what it never uses.

Why: the webhook is most of the traffic (several messages per second per live call) and
authenticates with its own credential, so sessions, the user, messages, CSRF, CSP, axes,
simple-history, django-prometheus' per-request histograms and django-structlog's two log
lines per request are pure cost on it (about a sixth of a request's CPU, measured in
bench/webhook_bench.py). This middleware sits first in ``MIDDLEWARE`` and sends the
webhook path straight to a stack of two: Django's ``SecurityMiddleware`` (the HTTPS
redirect and the security headers stay identical) and the DRF view. Every other path goes
through the full stack unchanged.

What the webhook keeps from the full stack, by its own means: the Host header is still
validated (``DisallowedHost`` answers 400 as everywhere else), a database outage is
answered 503 JSON by the view itself, and metrics are ``voiceops_webhook_*`` (count and
latency per message type) rather than django-prometheus' per-view ones.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.middleware.security import SecurityMiddleware
from django.urls import NoReverseMatch, reverse

Handler = Callable[[HttpRequest], HttpResponseBase]


class WebhookFastPathMiddleware:
    """First in MIDDLEWARE: the webhook path bypasses the rest of the stack."""

    def __init__(self, get_response: Handler) -> None:
        from calls.webhooks.views import VapiWebhookView

        self.get_response = get_response
        self.webhook: Handler = SecurityMiddleware(VapiWebhookView.as_view())  # type: ignore[assignment]
        self._path: str | None = None

    @property
    def path(self) -> str:
        # Resolved on first use: URLconfs are not importable while middleware is loaded.
        if self._path is None:
            try:
                self._path = reverse("webhooks:vapi")
            except NoReverseMatch:  # a URLconf without the webhook: nothing to short-circuit
                self._path = ""
        return self._path

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info != self.path:
            return self.get_response(request)
        request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware would check it
        return self.webhook(request)
