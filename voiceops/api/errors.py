"""One JSON error shape for the whole API: ``{"error": {"code", "message", "fields"}}``.

``api_exception_handler`` is DRF's EXCEPTION_HANDLER; ``handler404``/``handler500`` (and
400/403) answer the same shape for /api/ paths that never reach a DRF view, so no client
ever has to parse an HTML error page.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from voiceops.errors import Conflict, DomainError, InvalidState, NotFound, TryLater
from voiceops.vapi.client import VapiError

log = structlog.get_logger(__name__)

API_PREFIX = "/api/"


def error_body(*, code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


class DomainAPIException(exceptions.APIException):
    """A domain error carried through DRF with its own status, code and field messages."""

    def __init__(self, *, status_code: int, code: str, message: str, fields: dict[str, list[str]]):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.fields = fields
        self.error_code = code
        self.wait: int | None = None  # seconds; sent as Retry-After (429/503)


class UnprocessableEntity(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


def domain_status(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return status.HTTP_404_NOT_FOUND
    if isinstance(exc, Conflict | InvalidState):
        return status.HTTP_409_CONFLICT
    return status.HTTP_422_UNPROCESSABLE_ENTITY


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field.sub.0": ["message", ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def _translate(exc: Exception) -> Exception:
    """Errors from the domain, Django and the database as DRF exceptions (or unchanged)."""
    if isinstance(exc, TryLater):
        later = DomainAPIException(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE
            if exc.unavailable
            else status.HTTP_429_TOO_MANY_REQUESTS,
            code=exc.code,
            message=exc.message,
            fields=exc.fields,
        )
        later.wait = exc.retry_after  # DRF's handler turns ``wait`` into the Retry-After header
        return later
    if isinstance(exc, DomainError):
        return DomainAPIException(
            status_code=domain_status(exc), code=exc.code, message=exc.message, fields=exc.fields
        )
    if isinstance(exc, VapiError):
        # Vapi refused or did not answer: the caller did nothing wrong and may retry later.
        log.warning("api.vapi_error", error_class=type(exc).__name__)
        return DomainAPIException(
            status_code=status.HTTP_502_BAD_GATEWAY,
            code="vapi_unavailable",
            message=f"Vapi did not complete the request: {exc}",
            fields={},
        )
    if isinstance(exc, Http404):
        return exceptions.NotFound("Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, ProtectedError | RestrictedError):
        return DomainAPIException(
            status_code=status.HTTP_409_CONFLICT,
            code="protected",
            message="Other records still refer to this one; remove or reassign them first.",
            fields={},
        )
    if isinstance(exc, IntegrityError):
        # The database refused a write a serializer did not foresee (constraints are the
        # guarantee). Conflict, not 500: the caller's data clashes with what is stored.
        log.warning("api.integrity_error", error=str(exc).splitlines()[0] if str(exc) else "")
        return DomainAPIException(
            status_code=status.HTTP_409_CONFLICT,
            code="conflict",
            message="The request conflicts with data already stored.",
            fields={},
        )
    if isinstance(exc, DataError):
        log.warning("api.data_error", error=str(exc).splitlines()[0] if str(exc) else "")
        return exceptions.ValidationError(
            {"non_field_errors": ["A value is not storable (out of range or invalid characters)."]}
        )
    return exc


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's handler500 answers (JSON for /api/)
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        non_field = fields.get("non_field_errors")
        message = non_field[0] if non_field and len(fields) == 1 else "The request has invalid fields."
        response.data = error_body(code="validation_error", message=message, fields=fields)
    elif isinstance(exc, DomainAPIException):
        response.data = error_body(code=exc.error_code, message=str(exc.detail), fields=exc.fields)
    else:
        code = exc.get_codes()
        response.data = error_body(
            code=code if isinstance(code, str) else exc.default_code, message=str(exc.detail)
        )
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(code="bad_request", message="Bad request."), status=400)
    return defaults.bad_request(request, exception or SuspiciousOperation())


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(code="permission_denied", message="Forbidden."), status=403)
    return defaults.permission_denied(request, exception or DjangoPermissionDenied())


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body(code="not_found", message="No such endpoint."), status=404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            error_body(code="server_error", message="Something went wrong on our side; it has been logged."),
            status=500,
        )
    return defaults.server_error(request)
