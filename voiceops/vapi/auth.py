"""Authenticating Vapi server messages before their body is parsed (CONTRACT §2).

Why it looks like this:
- the check runs on the raw request bytes and headers only, so a forged or oversized
  JSON document is never parsed and nothing about it is stored;
- every comparison is ``hmac.compare_digest`` and every configured secret is compared
  (no early exit), so neither timing nor the secret that matched leaks;
- any secret in ``VAPI_WEBHOOK_SECRET`` is accepted, so a secret can be rotated by
  deploying ``new,old`` first and dropping ``old`` once Vapi sends the new one;
- the schemes Vapi offers are switched on by ``VAPI_WEBHOOK_AUTH``; the HMAC scheme
  takes header names, algorithm, prefix, encoding and payload format from settings, so
  Vapi's default credential (``x-signature`` over ``{timestamp}.{body}``) and the
  body-only ``x-vapi-signature`` variant are both one setting away;
- HMAC timestamps may be Unix seconds, milliseconds or ISO 8601 (Vapi does not document
  the unit); outside the replay window (default 5 minutes) they are refused, so a
  captured request cannot be replayed later. A resend inside the window is the same
  delivery and is deduplicated by the ledger, not here.
- a refusal leaves nothing behind but a per-process counter and one log line naming the
  scheme and the reason (never a secret, a header value or the body).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog
from django.conf import settings

log = structlog.get_logger(__name__)

SCHEME_SECRET = "secret"
SCHEME_BEARER = "bearer"
SCHEME_HMAC = "hmac"
KNOWN_SCHEMES = (SCHEME_SECRET, SCHEME_BEARER, SCHEME_HMAC)

SECRET_HEADER = "X-Vapi-Secret"
_ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512, "sha1": hashlib.sha1}
_PLACEHOLDER = re.compile(r"(\{timestamp\}|\{body\}|\{method\}|\{url\})")
_BEARER_PREFIX = "bearer "

_failures: Counter[str] = Counter()
_failures_lock = threading.Lock()


class WebhookAuthError(Exception):
    """The request did not prove it came from Vapi. ``reason`` is safe to log and to answer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class HmacConfig:
    algorithm: str
    signature_header: str
    timestamp_header: str
    prefix: str
    encoding: str
    payload_format: str
    tolerance_seconds: int
    secret_is_base64: bool

    @classmethod
    def from_settings(cls) -> HmacConfig:
        return cls(
            algorithm=settings.VAPI_WEBHOOK_HMAC_ALGORITHM.lower(),
            signature_header=settings.VAPI_WEBHOOK_HMAC_SIGNATURE_HEADER,
            timestamp_header=settings.VAPI_WEBHOOK_HMAC_TIMESTAMP_HEADER,
            prefix=settings.VAPI_WEBHOOK_HMAC_PREFIX,
            encoding=settings.VAPI_WEBHOOK_HMAC_ENCODING.lower(),
            payload_format=settings.VAPI_WEBHOOK_HMAC_PAYLOAD_FORMAT,
            tolerance_seconds=settings.VAPI_WEBHOOK_HMAC_TOLERANCE_SECONDS,
            secret_is_base64=getattr(settings, "VAPI_WEBHOOK_HMAC_SECRET_IS_BASE64", False),
        )

    @property
    def uses_timestamp(self) -> bool:
        return "{timestamp}" in self.payload_format


def auth_failure_counts() -> dict[str, int]:
    """Refusals since process start, by reason (exported by the metrics endpoint)."""
    with _failures_lock:
        return dict(_failures)


def _count_failure(reason: str) -> None:
    with _failures_lock:
        _failures[reason] += 1


def _bytes(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


def _matches_any(candidate: bytes, secrets: list[bytes]) -> bool:
    """Compare against every secret, without stopping at the first match."""
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(candidate, secret)
    return matched


def _secrets() -> list[str]:
    return [s for s in settings.VAPI_WEBHOOK_SECRET if s]


def parse_timestamp(value: str) -> float | None:
    """Unix seconds, milliseconds (or microseconds), or ISO 8601; None when unreadable."""
    text = value.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    if number != number or number in (float("inf"), float("-inf")):  # NaN / infinities
        return None
    if number > 1e14:  # microseconds
        return number / 1e6
    if number > 1e11:  # milliseconds: 1e11 s is the year 5138
        return number / 1e3
    return number


def hmac_signature(
    *,
    secret: str,
    body: bytes,
    timestamp: str = "",
    config: HmacConfig,
    method: str = "POST",
    url: str = "",
) -> str:
    """The signature header value Vapi sends for ``body``: prefix + encoded HMAC of the payload."""
    key = base64.b64decode(secret) if config.secret_is_base64 else _bytes(secret)
    parts: list[bytes] = []
    for piece in _PLACEHOLDER.split(config.payload_format):
        if piece == "{body}":
            parts.append(body)
        elif piece == "{timestamp}":
            parts.append(_bytes(timestamp))
        elif piece == "{method}":
            parts.append(_bytes(method))
        elif piece == "{url}":
            parts.append(_bytes(url))
        else:
            parts.append(_bytes(piece))
    digest = hmac.new(key, b"".join(parts), _ALGORITHMS[config.algorithm]).digest()
    encoded = base64.b64encode(digest).decode() if config.encoding == "base64" else digest.hex()
    return f"{config.prefix}{encoded}"


def _check_secret_header(headers: Mapping[str, str], secrets: list[bytes]) -> bool | None:
    value = headers.get(SECRET_HEADER)
    if value is None:
        return None
    return _matches_any(_bytes(value.strip()), secrets)


def _check_bearer(headers: Mapping[str, str], secrets: list[bytes]) -> bool | None:
    value = headers.get(settings.VAPI_WEBHOOK_BEARER_HEADER)
    if value is None:
        return None
    token = value.strip()
    # Vapi's bearer credential can switch the "Bearer " prefix off for custom header names.
    if token[: len(_BEARER_PREFIX)].lower() == _BEARER_PREFIX:
        token = token[len(_BEARER_PREFIX) :].strip()
    return _matches_any(_bytes(token), secrets)


def _check_hmac(
    headers: Mapping[str, str],
    body: bytes,
    secrets: list[str],
    *,
    now: float,
    method: str,
    url: Callable[[], str],
) -> bool | None:
    config = HmacConfig.from_settings()
    signature = headers.get(config.signature_header)
    if signature is None:
        return None
    if config.algorithm not in _ALGORITHMS:
        raise WebhookAuthError("hmac_misconfigured")
    timestamp = ""
    if config.uses_timestamp:
        timestamp = (headers.get(config.timestamp_header) or "").strip()
        sent_at = parse_timestamp(timestamp)
        if sent_at is None:
            raise WebhookAuthError("hmac_timestamp_missing")
        if abs(now - sent_at) > config.tolerance_seconds:
            raise WebhookAuthError("hmac_timestamp_stale")
    full_url = ""
    if "{url}" in config.payload_format:
        try:
            full_url = url()
        except Exception:  # noqa: BLE001 - e.g. DisallowedHost: cannot rebuild what was signed
            raise WebhookAuthError("hmac_url_unavailable")
    candidate = _bytes(signature.strip())
    matched = False
    for secret in secrets:
        try:
            expected = hmac_signature(
                secret=secret, body=body, timestamp=timestamp, config=config, method=method, url=full_url
            )
        except (binascii.Error, ValueError):
            continue  # a secret that is not valid base64 while secretIsBase64 is set
        if config.encoding == "hex":
            # Vapi does not document the hex case; compare case-insensitively.
            matched |= hmac.compare_digest(candidate.lower(), _bytes(expected).lower())
        else:
            matched |= hmac.compare_digest(candidate, _bytes(expected))
    return matched


def webhook_authenticate(
    *,
    headers: Mapping[str, str],
    body: bytes,
    method: str = "POST",
    url: Callable[[], str] | None = None,
    now: float | None = None,
) -> str:
    """Return the scheme that authenticated the request, or raise :class:`WebhookAuthError`.

    ``headers`` is a case-insensitive mapping (Django's ``request.headers``). A scheme
    whose header is absent is skipped; a present but wrong credential of an enabled
    scheme is not fatal while another enabled scheme succeeds (Vapi may send both the
    legacy secret and a credential during a migration).
    """
    secrets = _secrets()
    enabled = [s.strip().lower() for s in settings.VAPI_WEBHOOK_AUTH if s.strip()]
    try:
        if not secrets:
            raise WebhookAuthError("no_secret_configured")
        secret_bytes = [_bytes(s) for s in secrets]
        checked_at = time.time() if now is None else now
        first_error: str | None = None
        presented = False
        for scheme in enabled:
            try:
                if scheme == SCHEME_SECRET:
                    result = _check_secret_header(headers, secret_bytes)
                elif scheme == SCHEME_BEARER:
                    result = _check_bearer(headers, secret_bytes)
                elif scheme == SCHEME_HMAC:
                    result = _check_hmac(
                        headers, body, secrets, now=checked_at, method=method, url=url or (lambda: "")
                    )
                else:
                    continue
            except WebhookAuthError as exc:
                presented = True
                first_error = first_error or exc.reason
                continue
            if result is None:
                continue
            presented = True
            if result:
                return scheme
            first_error = first_error or f"{scheme}_mismatch"
        raise WebhookAuthError(first_error if presented and first_error else "credentials_missing")
    except WebhookAuthError as exc:
        _count_failure(exc.reason)
        log.warning("webhook.auth.refused", reason=exc.reason, schemes=enabled)
        raise
