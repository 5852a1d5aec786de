"""The one HTTP client for Vapi's REST API. Nothing else in voiceops imports ``requests``.

Why it looks like this:
- one ``requests.Session`` per process, so TLS connections are reused across calls;
- connect/read timeouts on every request, so no worker blocks longer than its budget;
- urllib3 ``Retry`` with exponential backoff honouring ``Retry-After`` on 429 and 5xx for
  idempotent methods. ``POST`` (creating a call or an assistant) is retried only on 429
  and on connect errors: Vapi refused those before doing anything, while a 5xx or a read
  timeout after a POST may mean the call was already placed, and a second dial is worse
  than a visible failure (the caller's own idempotency/reconciliation handles that case);
- ``Retry-After`` is capped (``VAPI_RETRY_AFTER_MAX``): a worker must not sleep for an hour
  because Vapi said so; when the retries run out the 429 surfaces as ``VapiRateLimited``
  carrying ``retry_after``, so the Celery task can come back later instead;
- typed errors carrying the status and Vapi's own message (NestJS-style bodies);
- structured logs with method, path, status and latency, never the API key (the key lives
  only in the Session's headers; no log line, error message or ``repr`` includes headers).
"""

from __future__ import annotations

import time
from typing import Any

import requests
import structlog
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from voiceops.vapi.text import document_storable, may_hold_hostile_text

log = structlog.get_logger(__name__)

JSON = dict[str, Any]


class VapiError(Exception):
    """Any failure talking to Vapi. ``status`` is None when no HTTP answer came back."""

    def __init__(
        self, message: str, *, status: int | None = None, body: Any = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Worth trying again later: rate limits, Vapi's 5xx and no answer at all; never 4xx."""
        return self.status is None or self.status == 429 or self.status >= 500

    def __str__(self) -> str:
        return f"{self.status} {self.message}" if self.status else self.message


class VapiBadRequest(VapiError):
    """400/422: Vapi refused the payload (validation, limits, unknown properties)."""


class VapiAuthError(VapiError):
    """401/403: the API key is missing, wrong or lacks permission."""


class VapiNotFound(VapiError):
    """404: the id does not exist in this Vapi org."""


class VapiRateLimited(VapiError):
    """429 after our retries ran out."""


class VapiServerError(VapiError):
    """5xx after our retries ran out."""


class VapiUnavailable(VapiError):
    """No HTTP answer at all: connection refused, DNS, or a timeout."""


class VapiTimeout(VapiUnavailable):
    """Connect or read timeout. After a POST the request may still have been carried out."""


class VapiRetry(Retry):
    """Retry policy that never repeats a non-idempotent POST after Vapi may have acted on it."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() == "POST":
            # POST is not in allowed_methods (so read errors are never retried), which would make
            # urllib3 refuse every status retry too; a 429 is safe to repeat, so decide it here.
            return status_code == 429 and bool(self.total) and status_code in (self.status_forcelist or ())
        return super().is_retry(method, status_code, has_retry_after)


def _message_from_body(body: Any, fallback: str) -> str:
    if isinstance(body, dict):
        message = body.get("message") or body.get("error")
        if isinstance(message, list):
            return "; ".join(str(m) for m in message)
        if message:
            return str(message)
    return fallback


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class VapiClient:
    """Thin typed wrapper over Vapi's REST endpoints (see shared/vapi/CONTRACT.md §7)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: tuple[float, float] | None = None,
        retries: int | None = None,
        backoff_factor: float = 0.5,
    ) -> None:
        self.base_url = (base_url or settings.VAPI_BASE_URL).rstrip("/")
        self.timeout = timeout or (settings.VAPI_TIMEOUT_CONNECT, settings.VAPI_TIMEOUT_READ)
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {api_key if api_key is not None else settings.VAPI_API_KEY}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "voiceops/1.0",
            }
        )
        total = settings.VAPI_RETRIES if retries is None else retries
        retry = VapiRetry(
            total=total,
            connect=total,
            read=total,
            status=total,
            backoff_factor=backoff_factor,
            backoff_max=30,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            retry_after_max=max(0, int(getattr(settings, "VAPI_RETRY_AFTER_MAX", 30))),
        )
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=20)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        # POST /call is never retried here: the dialer treats a 429 as a refusal (requeue, org-wide
        # hold for Retry-After) instead of sleeping in a worker while its round waits.
        self.call_session = requests.Session()
        self.call_session.headers.update(self.session.headers)
        single = HTTPAdapter(max_retries=Retry(total=0, raise_on_status=False), pool_maxsize=20)
        self.call_session.mount("http://", single)
        self.call_session.mount("https://", single)

    # --- transport ---------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: JSON | None = None,
        retry: bool = True,
        url: str | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> Any:
        url = url or f"{self.base_url}{path}"
        started = time.monotonic()
        session = self.session if retry else self.call_session
        try:
            response = session.request(
                method,
                url,
                json=json,
                params=params,
                timeout=self.timeout,
                headers=headers,  # type: ignore[arg-type]  # None removes a session header
            )
        except requests.exceptions.RetryError as exc:
            log.warning("vapi.request.retries_exhausted", method=method, path=path, error=type(exc).__name__)
            raise VapiServerError("Vapi kept failing after retries") from exc
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            timed_out = isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc).lower()
            log.warning(
                "vapi.request.unavailable",
                method=method,
                path=path,
                error=type(exc).__name__,
                timeout=timed_out,
            )
            if timed_out:
                raise VapiTimeout(f"Vapi did not answer in time ({type(exc).__name__})") from exc
            raise VapiUnavailable(f"Vapi did not answer ({type(exc).__name__})") from exc
        except requests.exceptions.RequestException as exc:
            log.warning("vapi.request.failed", method=method, path=path, error=type(exc).__name__)
            raise VapiUnavailable(f"Request to Vapi failed ({type(exc).__name__})") from exc
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        log.info("vapi.request", method=method, path=path, status=response.status_code, elapsed_ms=elapsed_ms)
        try:
            body: Any = response.json() if response.content else None
            if may_hold_hostile_text(response.text):
                body = document_storable(body)  # stored as it comes: no NUL, no lone surrogate
        except ValueError:
            body = response.text[:500]
        if response.status_code < 400:
            return body
        message = _message_from_body(body, response.reason or "error")
        error_cls: type[VapiError] = VapiError
        if response.status_code in (400, 422):
            error_cls = VapiBadRequest
        elif response.status_code in (401, 403):
            error_cls = VapiAuthError
        elif response.status_code == 404:
            error_cls = VapiNotFound
        elif response.status_code == 429:
            error_cls = VapiRateLimited
        elif response.status_code >= 500:
            error_cls = VapiServerError
        log.warning(
            "vapi.request.error", method=method, path=path, status=response.status_code, message=message[:300]
        )
        raise error_cls(message, status=response.status_code, body=body, retry_after=_retry_after(response))

    # --- assistants --------------------------------------------------------------------------
    def assistant_create(self, payload: JSON) -> JSON:
        return self.request("POST", "/assistant", json=payload)

    def assistant_get(self, assistant_id: str) -> JSON:
        return self.request("GET", f"/assistant/{assistant_id}")

    def assistant_list(self, **params: Any) -> list[JSON]:
        return self.request("GET", "/assistant", params=params or None)

    def assistant_update(self, assistant_id: str, payload: JSON) -> JSON:
        return self.request("PATCH", f"/assistant/{assistant_id}", json=payload)

    def assistant_delete(self, assistant_id: str) -> JSON:
        return self.request("DELETE", f"/assistant/{assistant_id}")

    # --- calls ---------------------------------------------------------------------------------
    def call_create(self, payload: JSON) -> JSON:
        return self.request("POST", "/call", json=payload, retry=False)

    def call_get(self, call_id: str) -> JSON:
        return self.request("GET", f"/call/{call_id}")

    def call_list(self, **params: Any) -> list[JSON]:
        return self.request("GET", "/call", params=params or None)

    def call_update(self, call_id: str, payload: JSON) -> JSON:
        return self.request("PATCH", f"/call/{call_id}", json=payload)

    def call_delete(self, call_id: str) -> JSON:
        return self.request("DELETE", f"/call/{call_id}")

    def call_control(self, control_url: str, payload: JSON) -> Any:
        """POST to a live call's ``monitor.controlUrl`` (say, end-call, transfer). That URL is
        on Vapi's call host and needs no key, so ours is not sent there."""
        # Never retried: a repeated "say" would be heard twice.
        return self.request(
            "POST",
            "/<call>/control",
            json=payload,
            url=control_url,
            headers={"Authorization": None},
            retry=False,
        )

    # --- phone numbers -------------------------------------------------------------------------
    def phone_number_list(self, **params: Any) -> list[JSON]:
        return self.request("GET", "/phone-number", params=params or None)

    def phone_number_get(self, phone_number_id: str) -> JSON:
        return self.request("GET", f"/phone-number/{phone_number_id}")

    def phone_number_update(self, phone_number_id: str, payload: JSON) -> JSON:
        return self.request("PATCH", f"/phone-number/{phone_number_id}", json=payload)

    # --- tools and credentials -----------------------------------------------------------------
    def tool_create(self, payload: JSON) -> JSON:
        return self.request("POST", "/tool", json=payload)

    def tool_update(self, tool_id: str, payload: JSON) -> JSON:
        return self.request("PATCH", f"/tool/{tool_id}", json=payload)

    def credential_create(self, payload: JSON) -> JSON:
        return self.request("POST", "/credential", json=payload)

    def credential_get(self, credential_id: str) -> JSON:
        return self.request("GET", f"/credential/{credential_id}")

    def credential_update(self, credential_id: str, payload: JSON) -> JSON:
        return self.request("PATCH", f"/credential/{credential_id}", json=payload)


_client: VapiClient | None = None


def get_client() -> VapiClient:
    """The process-wide client (one Session, one connection pool)."""
    global _client
    if (
        _client is None
        or _client.base_url != settings.VAPI_BASE_URL.rstrip("/")
        or _client.session.headers.get("Authorization") != f"Bearer {settings.VAPI_API_KEY}"
    ):
        _client = VapiClient()
    return _client
