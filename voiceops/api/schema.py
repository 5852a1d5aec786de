"""OpenAPI pieces: the Api-Key security scheme and the error shape on every operation."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema_serializer
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable, e.g. validation_error, not_found.")
    message = serializers.CharField(help_text="A sentence for humans.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field path (dotted for nested input) to its messages; empty unless the input was invalid.",
    )


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Validation error",
            value={
                "error": {
                    "code": "validation_error",
                    "message": "The request has invalid fields.",
                    "fields": {"customer_number": ["Enter a valid phone number."]},
                }
            },
            response_only=True,
        ),
    ]
)
class ErrorSerializer(serializers.Serializer):
    """Every error the API answers has this shape."""

    error = ErrorDetailSerializer()


_ERRORS = {
    "400": "Invalid input; `fields` names each bad field.",
    "401": "No API key, or an unknown, revoked or expired one.",
    "403": "The API key lacks the scope this operation needs.",
    "404": "No such object (or an invalid pagination cursor).",
    "405": "Method not allowed.",
    "406": "The Accept header asks for something other than JSON.",
    "409": "Conflicts with the current state (taken slot, campaign state, request in flight).",
    "415": "Unsupported Content-Type.",
    "422": "Well-formed but cannot be carried out (e.g. Idempotency-Key reused with another body).",
    "429": "Too many requests for this API key; see Retry-After.",
    "502": "Vapi refused or did not answer; nothing was done twice, retry later.",
}
_SAFE_ERRORS = ("400", "401", "403", "404", "405", "406", "429")


class ApiAutoSchema(AutoSchema):
    """Documents the error responses every API operation can return, with the error shape."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = _SAFE_ERRORS if self.method in ("GET", "HEAD", "OPTIONS") else tuple(_ERRORS)
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=_ERRORS[code]), code, direction=direction
                )
        return responses


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "voiceops.api.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; create keys with `manage.py create_api_key` or in the admin.",
        }


def api_endpoints_only(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """Preprocessing hook: the schema describes /api/v1/ alone (not the webhook, admin or probes)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]
