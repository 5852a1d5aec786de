"""``Idempotency-Key`` for POSTs that place calls or create campaigns.

Same key + same request -> the first response is replayed (``Idempotent-Replayed: true``)
and the action does not run again. Same key + different request -> 422. Two identical
requests racing: the unique (api_key, key) row decides who runs; the other polls the
row for up to ``API_IDEMPOTENCY_WAIT_SECONDS`` and then either replays or answers 409.
A request that dies leaves its row in flight; after ``API_IDEMPOTENCY_LOCK_SECONDS`` a
retry may take it over. 5xx and transient 409/429 answers are not stored, so a retry
after them runs again; everything else (2xx, 4xx) is final for that key.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from voiceops.api.errors import DomainAPIException, UnprocessableEntity
from voiceops.api.models import ApiKey, IdempotencyRecord, IdempotencyState

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
NOT_STORED_STATUSES = {409, 429}

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID is ideal), up to 255 printable characters. Repeating a request "
        "with the same key returns the first response and does not act twice; reusing the key "
        "with a different body is a 422."
    ),
)


def request_fingerprint(*, request: Request) -> str:
    """SHA-256 over method, path and the body (JSON canonicalised so key order does not matter)."""
    raw = request.body
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode() if raw else b""
    except (ValueError, UnicodeDecodeError):
        body = raw
    digest = hashlib.sha256()
    digest.update((request.method or "").encode() + b"\n" + request.path.encode() + b"\n")
    digest.update(body)
    return digest.hexdigest()


def _header_key(request: Request) -> str | None:
    value = request.headers.get(HEADER)
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_KEY_LENGTH or not value.isprintable() or not value.isascii():
        raise exceptions.ValidationError(
            {HEADER: [f"Must be 1-{MAX_KEY_LENGTH} printable ASCII characters, such as a UUID."]}
        )
    return value


def service_idempotency_key(*, request: Request) -> str | None:
    """A key for the service's own dedupe (e.g. the dial-attempt ledger), scoped to the API key.

    Hashed so any header value fits the service's column and keys of two API keys never meet.
    """
    key = _header_key(request)
    if key is None or not isinstance(request.auth, ApiKey):
        return None
    return f"api:{request.auth.prefix}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def _settings_seconds(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def _claim(*, api_key: ApiKey, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Insert the in-flight row; None when another request already holds the key."""
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                api_key=api_key, key=key, request_hash=fingerprint, locked_at=timezone.now()
            )
    except IntegrityError:
        return None


def _retention_cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(
        hours=float(getattr(settings, "API_IDEMPOTENCY_RETENTION_HOURS", 24))
    )


def idempotency_records_purge() -> int:
    """Forget keys older than the retention period (run daily by beat); returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=_retention_cutoff()).delete()
    return deleted


def _take_over_stale(*, record: IdempotencyRecord) -> bool:
    """Claim an in-flight row whose owner died (older than the lock timeout)."""
    cutoff = timezone.now() - dt.timedelta(seconds=_settings_seconds("API_IDEMPOTENCY_LOCK_SECONDS", 120))
    return bool(
        IdempotencyRecord.objects.filter(
            pk=record.pk, state=IdempotencyState.IN_FLIGHT, locked_at__lt=cutoff
        ).update(locked_at=timezone.now())
    )


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.response_status)
    response[REPLAY_HEADER] = "true"
    return response


def _mismatch() -> UnprocessableEntity:
    return UnprocessableEntity(
        f"This {HEADER} was already used with a different request; use a new key for a new request.",
        code="idempotency_key_mismatch",
    )


def _wait_for(*, api_key: ApiKey, key: str, fingerprint: str) -> Response | IdempotencyRecord:
    """Wait for the request that owns the key; a Response to send, or the row we took over."""
    deadline = time.monotonic() + _settings_seconds("API_IDEMPOTENCY_WAIT_SECONDS", 5)
    poll = _settings_seconds("API_IDEMPOTENCY_POLL_SECONDS", 0.1)
    while True:
        record = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
        if record is None:  # the owner failed and released the key: try to become the owner
            claimed = _claim(api_key=api_key, key=key, fingerprint=fingerprint)
            if claimed is not None:
                return claimed
            continue
        if record.created_at < _retention_cutoff():
            # Keys are remembered for API_IDEMPOTENCY_RETENTION_HOURS; after that a key is new again.
            IdempotencyRecord.objects.filter(pk=record.pk, created_at=record.created_at).delete()
            continue
        if record.request_hash != fingerprint:
            raise _mismatch()
        if record.state == IdempotencyState.COMPLETED:
            return _replay(record)
        if _take_over_stale(record=record):
            return record
        if time.monotonic() >= deadline:
            raise DomainAPIException(
                status_code=409,
                code="idempotency_in_flight",
                message=f"A request with this {HEADER} is still being processed; retry shortly.",
                fields={},
            )
        time.sleep(poll)


def _store(*, record: IdempotencyRecord, response: Response) -> None:
    if response.status_code >= 500 or response.status_code in NOT_STORED_STATUSES:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyState.COMPLETED,
        response_status=response.status_code,
        response_body=body,
        completed_at=timezone.now(),
    )


def idempotent(func: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a viewset action (runs after authentication, so the key is known)."""

    @functools.wraps(func)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _header_key(request)
        if key is None or not isinstance(request.auth, ApiKey):
            return func(view, request, *args, **kwargs)
        fingerprint = request_fingerprint(request=request)
        outcome: Response | IdempotencyRecord | None = _claim(
            api_key=request.auth, key=key, fingerprint=fingerprint
        )
        if outcome is None:
            outcome = _wait_for(api_key=request.auth, key=key, fingerprint=fingerprint)
            if isinstance(outcome, Response):
                return outcome
        record = outcome
        assert isinstance(record, IdempotencyRecord)
        try:
            try:
                response = func(view, request, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - DRF answers it (or re-raises a real bug)
                response = view.handle_exception(exc)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()  # let a retry run
            raise
        _store(record=record, response=response)
        return response

    return wrapper
