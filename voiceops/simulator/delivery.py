"""Posting server messages to a server URL, authenticated the way Vapi does it (CONTRACT §2).

Auth comes from the resolved ``server`` block: ``server.secret`` → ``x-vapi-secret``;
``server.credentialId`` → the stored webhook credential (bearer, HMAC with timestamp, or
OAuth2 client-credentials); static ``server.headers`` are added and an explicit
``Authorization`` there wins over the credential. The HMAC is computed over the exact
bytes sent, with the payload format, algorithm, encoding and header names of the plan.

Fault injection lives here too, because the faults Vapi users see are delivery faults:
duplicates, reordering, lost messages, slow deliveries. Stdlib ``urllib`` is used on
purpose: ``requests`` is reserved for voiceops's own Vapi client.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

log = structlog.get_logger(__name__)

JSON = dict[str, Any]
HASHES = {"sha256": hashlib.sha256, "sha512": hashlib.sha512, "sha1": hashlib.sha1}


@dataclass
class Faults:
    """Delivery faults, each a probability per message (0 disables)."""

    duplicate_rate: float = 0.0
    shuffle: bool = False
    drop_report_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 2.0
    fail_rate: float = 0.0

    def any(self) -> bool:
        return bool(
            self.duplicate_rate or self.shuffle or self.drop_report_rate or self.slow_rate or self.fail_rate
        )


@dataclass
class Delivery:
    """One POST attempt (or an injected loss), kept for tests and the load report."""

    call_id: str
    type: str
    url: str
    status: int | None
    elapsed_ms: float
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str = ""
    duplicate: bool = False
    injected: str = ""
    response: Any = None
    sent_at: float = 0.0


def sign_headers(
    *,
    body: bytes,
    url: str,
    server: JSON,
    credential: JSON | None,
    default_secret: str | None,
    oauth: OAuthTokens | None = None,
    hmac_timestamp_unit: str = "s",
) -> dict[str, str]:
    """The auth + static headers for one delivery of ``body`` to ``url``."""
    headers: dict[str, str] = {}
    plan = (credential or {}).get("authenticationPlan") if credential else None
    if isinstance(plan, dict):
        kind = plan.get("type")
        if kind == "bearer":
            name = plan.get("headerName") or "Authorization"
            token = str(plan.get("token", ""))
            headers[name] = f"Bearer {token}" if plan.get("bearerPrefixEnabled", True) else token
        elif kind == "hmac":
            headers.update(hmac_headers(body=body, url=url, plan=plan, unit=hmac_timestamp_unit))
        elif kind == "oauth2" and oauth is not None:
            headers["Authorization"] = f"Bearer {oauth.token(plan)}"
    elif server.get("secret"):
        headers["x-vapi-secret"] = str(server["secret"])
    elif default_secret:
        headers["x-vapi-secret"] = default_secret
    for name, value in (server.get("headers") or {}).items():
        headers[str(name)] = str(value)
    return headers


def hmac_headers(
    *,
    body: bytes,
    url: str,
    plan: JSON,
    unit: str = "s",
    now: float | None = None,
    message_id: str | None = None,
) -> dict[str, str]:
    """Vapi's HMAC credential: signature over ``payloadFormat`` with the plan's options."""
    moment = time.time() if now is None else now
    timestamp = str(int(moment * 1000) if unit == "ms" else int(moment))
    include_timestamp = plan.get("includeTimestamp", True)
    fmt = plan.get("payloadFormat") or ("{timestamp}.{body}" if include_timestamp else "{body}")
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    signed = (
        fmt.replace("{timestamp}", timestamp)
        .replace("{method}", "POST")
        .replace("{url}", url)
        .replace("{svix-id}", message_id)
    )
    # {body} last and by bytes, so a body containing "{timestamp}" is never rewritten.
    head, _, tail = signed.partition("{body}")
    payload = head.encode() + body + tail.encode() if "{body}" in signed else signed.encode()
    secret_text = str(plan.get("secretKey", ""))
    secret = base64.b64decode(secret_text) if plan.get("secretIsBase64") else secret_text.encode()
    digest = hmac.new(secret, payload, HASHES.get(plan.get("algorithm") or "sha256", hashlib.sha256)).digest()
    signature = (
        base64.b64encode(digest).decode() if plan.get("signatureEncoding") == "base64" else digest.hex()
    )
    headers = {
        plan.get("signatureHeader") or "x-signature": f"{plan.get('signaturePrefix') or ''}{signature}"
    }
    if include_timestamp:
        headers[plan.get("timestampHeader") or "x-timestamp"] = timestamp
    if plan.get("messageIdHeader"):
        headers[plan["messageIdHeader"]] = message_id
    return headers


class OAuthTokens:
    """Client-credentials tokens fetched from the customer's token URL, cached until expiry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}

    def token(self, plan: JSON) -> str:
        key = (str(plan.get("url")), str(plan.get("clientId")))
        with self._lock:
            cached = self._cache.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        form = {
            "grant_type": "client_credentials",
            "client_id": plan.get("clientId", ""),
            "client_secret": plan.get("clientSecret", ""),
        }
        if plan.get("scope"):
            form["scope"] = plan["scope"]
        request = urllib.request.Request(  # noqa: S310 - http(s) only, checked by the credential validation
            str(plan.get("url")),
            data=urllib.parse.urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - configured URL
                data = json.loads(response.read() or b"{}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("simulator.oauth.failed", url=key[0], error=str(exc))
            return ""
        token = str(data.get("access_token", ""))
        ttl = float(data.get("expires_in") or 3600)
        with self._lock:
            self._cache[key] = (token, time.monotonic() + max(ttl - 30, 1))
        return token


class Deliverer:
    """Posts messages, applies faults and keeps a bounded log of what happened."""

    def __init__(
        self,
        *,
        faults: Faults | None = None,
        rng: random.Random | None = None,
        keep: int = 5000,
        keep_bodies: bool = True,
        hmac_timestamp_unit: str = "s",
    ) -> None:
        self.faults = faults or Faults()
        self.rng = rng or random.Random()
        self.rng_lock = threading.Lock()
        self.log: collections.deque[Delivery] = collections.deque(maxlen=keep)
        self.log_lock = threading.Lock()
        self.oauth = OAuthTokens()
        self.hmac_timestamp_unit = hmac_timestamp_unit
        self.keep_bodies = keep_bodies
        # Called with every Delivery (e.g. the load report aggregates here instead of in the bounded log).
        self.listeners: list[Callable[[Delivery], None]] = []

    def chance(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self.rng_lock:
            return self.rng.random() < probability

    def shuffled(self, items: list[Any]) -> list[Any]:
        with self.rng_lock:
            items = list(items)
            self.rng.shuffle(items)
            return items

    def record(self, delivery: Delivery) -> None:
        with self.log_lock:
            self.log.append(delivery)
        for listener in self.listeners:
            listener(delivery)

    def record_drop(self, call_id: str, kind: str) -> None:
        """An injected loss of a whole message (e.g. the end-of-call report never sent)."""
        self.record(
            Delivery(
                call_id=call_id,
                type=kind,
                url="",
                status=None,
                elapsed_ms=0.0,
                error="injected: message dropped",
                injected="drop",
                sent_at=time.time(),
            )
        )

    def deliveries(self) -> list[Delivery]:
        with self.log_lock:
            return list(self.log)

    def post(
        self,
        *,
        call_id: str,
        message: JSON,
        url: str,
        server: JSON,
        credential: JSON | None,
        default_secret: str | None,
        timeout: float,
        duplicate: bool = False,
    ) -> Delivery:
        """POST ``{"message": ...}`` once, honouring slow/fail faults and ``server.backoffPlan``."""
        kind = str(message.get("type"))
        if self.chance(self.faults.slow_rate):
            time.sleep(self.faults.slow_seconds)
        if self.chance(self.faults.fail_rate):
            lost = Delivery(
                call_id=call_id,
                type=kind,
                url=url,
                status=None,
                elapsed_ms=0.0,
                error="injected delivery failure",
                injected="fail",
                duplicate=duplicate,
                sent_at=time.time(),
            )
            self.record(lost)
            return lost
        body = json.dumps({"message": message}, separators=(",", ":"), ensure_ascii=False).encode()
        raw_plan = server.get("backoffPlan")
        plan: JSON = raw_plan if isinstance(raw_plan, dict) else {}
        retries = int(plan.get("maxRetries", 0) or 0)
        attempt = 0
        while True:
            delivery = self._post_once(
                call_id=call_id,
                kind=kind,
                url=url,
                body=body,
                server=server,
                credential=credential,
                default_secret=default_secret,
                timeout=timeout,
                duplicate=duplicate,
            )
            ok = delivery.status is not None and 200 <= delivery.status < 300
            excluded = delivery.status in (plan.get("excludedStatusCodes") or [])
            if ok or excluded or attempt >= retries:
                return delivery
            attempt += 1
            base = float(plan.get("baseDelaySeconds", 1) or 0)
            time.sleep(base * (2 ** (attempt - 1)) if plan.get("type") == "exponential" else base)

    def _post_once(
        self,
        *,
        call_id: str,
        kind: str,
        url: str,
        body: bytes,
        server: JSON,
        credential: JSON | None,
        default_secret: str | None,
        timeout: float,
        duplicate: bool,
    ) -> Delivery:
        headers = {"Content-Type": "application/json", "User-Agent": "vapi-simulator/1.0"}
        headers.update(
            sign_headers(
                body=body,
                url=url,
                server=server,
                credential=credential,
                default_secret=default_secret,
                oauth=self.oauth,
                hmac_timestamp_unit=self.hmac_timestamp_unit,
            )
        )
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"server URL must be http(s): {url!r}")
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        started = time.monotonic()
        status: int | None = None
        raw = b""
        error = ""
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
                status = response.status
                raw = response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            raw = exc.read() or b""
            error = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        elapsed = round((time.monotonic() - started) * 1000, 2)
        parsed: Any = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw[:500].decode("utf-8", "replace")
        delivery = Delivery(
            call_id=call_id,
            type=kind,
            url=url,
            status=status,
            elapsed_ms=elapsed,
            headers=headers,
            body=body if self.keep_bodies else b"",
            error=error,
            duplicate=duplicate,
            response=parsed,
            sent_at=time.time(),
        )
        self.record(delivery)
        if error:
            log.info("simulator.delivery.failed", call_id=call_id, type=kind, status=status, error=error)
        return delivery
