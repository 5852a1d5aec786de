"""Throttling per API key (by its public prefix), rate from settings or the key itself."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from voiceops.api.models import ApiKey

DEFAULT_RATE = "600/min"


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Counts requests per key prefix in the cache named by ``API_THROTTLE_CACHE``.

    The rate is read per request (not frozen at import like DRF's THROTTLE_RATES), so a
    key's own ``rate_limit`` and settings overrides in tests take effect at once.
    """

    scope = "api_key"

    def __init__(self) -> None:
        self.cache = caches[getattr(settings, "API_THROTTLE_CACHE", "default")]
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_rate(self) -> str:
        return getattr(settings, "API_THROTTLE_RATE", DEFAULT_RATE)

    def allow_request(self, request: Request, view: Any) -> bool:
        api_key = request.auth
        if isinstance(api_key, ApiKey) and api_key.rate_limit:
            self.rate = api_key.rate_limit
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": api_key.prefix}
