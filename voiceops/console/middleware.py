"""Activate the signed-in person's display time zone for admin pages."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from voiceops.console.timezones import display_zone


class DisplayTimeZoneMiddleware:
    """Only for /admin/: the API and webhooks keep answering in UTC ISO 8601."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/admin/"):
            return self.get_response(request)
        timezone.activate(display_zone(getattr(request, "user", None)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
