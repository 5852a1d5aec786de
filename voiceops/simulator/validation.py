"""Request validation with Vapi's (NestJS class-validator) error format.

Vapi answers a bad body with HTTP 400 and ``{"message": [...], "error": "Bad Request",
"statusCode": 400}``; unknown properties are refused with "property X should not exist"
(CONTRACT §7.1, pitfall 13). The simulator reproduces that so voiceops meets the same
refusals here that it would meet in production. The property lists come from the
``vapi-server-sdk`` 3.0.0 DTOs (CreateAssistantDto, CreateCallDTO, CreateCustomerDto, ...).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from voiceops.simulator.store import parse_iso
from voiceops.vapi import enums as vapi_enums

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

ASSISTANT_FIELDS = frozenset(
    {
        "analysisPlan",
        "artifactPlan",
        "backgroundSound",
        "backgroundSpeechDenoisingPlan",
        "clientMessages",
        "compliancePlan",
        "credentialIds",
        "credentials",
        "endCallMessage",
        "endCallPhrases",
        "firstMessage",
        "firstMessageInterruptionsEnabled",
        "firstMessageMode",
        "hooks",
        "keypadInputPlan",
        "maxDurationSeconds",
        "metadata",
        "model",
        "modelOutputInMessagesEnabled",
        "monitorPlan",
        "name",
        "observabilityPlan",
        "server",
        "serverMessages",
        "startSpeakingPlan",
        "stopSpeakingPlan",
        "transcriber",
        "transportConfigurations",
        "voice",
        "voicemailDetection",
        "voicemailMessage",
    }
)
CALL_FIELDS = frozenset(
    {
        "assistantVersion",
        "squadVersion",
        "transport",
        "customers",
        "name",
        "schedulePlan",
        "assistantId",
        "assistant",
        "assistantOverrides",
        "squadId",
        "squad",
        "squadOverrides",
        "workflowId",
        "workflow",
        "workflowOverrides",
        "phoneNumberId",
        "phoneNumber",
        "customerId",
        "customer",
    }
)
CUSTOMER_FIELDS = frozenset(
    {
        "assistantOverrides",
        "email",
        "extension",
        "externalId",
        "name",
        "number",
        "numberE164CheckEnabled",
        "sipUri",
        "squadOverrides",
    }
)
SCHEDULE_PLAN_FIELDS = frozenset({"earliestAt", "latestAt"})
CALL_UPDATE_FIELDS = frozenset({"name"})
PHONE_NUMBER_UPDATE_FIELDS = frozenset(
    {
        "fallbackDestination",
        "hooks",
        "name",
        "assistantId",
        "squadId",
        "workflowId",
        "server",
        "number",
        "credentialId",
        "twilioAccountSid",
        "twilioAuthToken",
        "twilioApiKey",
        "twilioApiSecret",
        "smsEnabled",
        "numberE164CheckEnabled",
        "provider",
        "sipUri",
        "authentication",
        "vonageApplicationId",
    }
)
SERVER_FIELDS = frozenset(
    {
        "url",
        "headers",
        "credentialId",
        "timeoutSeconds",
        "backoffPlan",
        "staticIpAddressesEnabled",
        "encryptedPaths",
        "secret",
    }
)
SERVER_MESSAGE_TYPES = frozenset(vapi_enums.SERVER_MESSAGES)
TOOL_TYPES = frozenset(
    {
        "function",
        "apiRequest",
        "dtmf",
        "endCall",
        "transferCall",
        "handoff",
        "query",
        "bash",
        "computer",
        "textEditor",
        "google.calendar.event.create",
        "google.calendar.availability.check",
        "sms",
        "mcp",
        "output",
    }
)
HMAC_ALGORITHMS = frozenset({"sha256", "sha512", "sha1"})


class ApiError(Exception):
    """An HTTP error answer in NestJS shape; ``message`` is a list for validation errors."""

    REASONS = {
        400: "Bad Request",
        401: "Unauthorized",
        404: "Not Found",
        409: "Conflict",
        405: "Method Not Allowed",
        413: "Payload Too Large",
        429: "Too Many Requests",
        500: "Internal Server Error",
    }

    def __init__(
        self, status: int, message: str | list[str], *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message if isinstance(message, str) else "; ".join(message))
        self.status = status
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "error": self.REASONS.get(self.status, "Error"),
            "statusCode": self.status,
        }


def bad_request(messages: list[str] | str) -> ApiError:
    return ApiError(400, messages)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def require_uuid(value: str) -> None:
    """Vapi's ParseUUIDPipe answer for a malformed id in the path."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise bad_request("Validation failed (uuid is expected)")


def unknown_properties(body: dict[str, Any], allowed: frozenset[str], prefix: str = "") -> list[str]:
    return [f"{prefix}property {key} should not exist" for key in body if key not in allowed]


def check_object(body: Any, *, what: str = "body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request([f"{what} must be an object"])
    return body


def customer_errors(customer: Any, prefix: str) -> list[str]:
    """Errors of one CreateCustomerDto, each prefixed with its path (``customer.`` / ``customers.0.``)."""
    if not isinstance(customer, dict):
        return [f"{prefix.rstrip('.')} must be an object"]
    errors = unknown_properties(customer, CUSTOMER_FIELDS, prefix)
    number = customer.get("number")
    if number is not None:
        if not isinstance(number, str):
            errors.append(f"{prefix}number must be a string")
        elif not 3 <= len(number) <= 40:
            errors.append(
                f"{prefix}number must be longer than or equal to 3 and shorter than or equal to 40 characters"
            )
        elif customer.get("numberE164CheckEnabled", True) is not False and not E164.match(number):
            errors.append(f"{prefix}number must be a valid phone number in the E.164 format.")
    elif not customer.get("sipUri"):
        errors.append(f"{prefix}number must be a valid phone number in the E.164 format.")
    for key in ("name", "email", "externalId", "extension"):
        if key in customer and customer[key] is not None and not isinstance(customer[key], str):
            errors.append(f"{prefix}{key} must be a string")
    if isinstance(customer.get("name"), str) and len(customer["name"]) > 40:
        errors.append(f"{prefix}name must be shorter than or equal to 40 characters")
    overrides = customer.get("assistantOverrides")
    if overrides is not None and not isinstance(overrides, dict):
        errors.append(f"{prefix}assistantOverrides must be an object")
    return errors


def schedule_plan_errors(plan: Any) -> list[str]:
    if not isinstance(plan, dict):
        return ["schedulePlan must be an object"]
    errors = unknown_properties(plan, SCHEDULE_PLAN_FIELDS, "schedulePlan.")
    earliest = parse_iso(plan.get("earliestAt"))
    if earliest is None:
        errors.append("schedulePlan.earliestAt must be a valid ISO 8601 date string")
    if "latestAt" in plan:
        latest = parse_iso(plan.get("latestAt"))
        if latest is None:
            errors.append("schedulePlan.latestAt must be a valid ISO 8601 date string")
        elif earliest is not None and latest <= earliest:
            errors.append("schedulePlan.latestAt must be after schedulePlan.earliestAt")
    return errors


def server_errors(server: Any, prefix: str = "server.") -> list[str]:
    if server is None:
        return []
    if not isinstance(server, dict):
        return [f"{prefix.rstrip('.')} must be an object"]
    errors = unknown_properties(server, SERVER_FIELDS, prefix)
    url = server.get("url")
    if url is not None and (not isinstance(url, str) or not re.match(r"^https?://", url)):
        errors.append(f"{prefix}url must be a URL address")
    timeout = server.get("timeoutSeconds")
    if timeout is not None and (not isinstance(timeout, (int, float)) or not 1 <= timeout <= 300):
        errors.append(f"{prefix}timeoutSeconds must not be less than 1 and not be greater than 300")
    headers = server.get("headers")
    if headers is not None and not isinstance(headers, dict):
        errors.append(f"{prefix}headers must be an object")
    return errors


def assistant_errors(body: dict[str, Any], *, partial: bool) -> list[str]:
    """CreateAssistantDto checks (``partial`` for PATCH, where every field is optional anyway)."""
    errors = unknown_properties(body, ASSISTANT_FIELDS)
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 40):
        errors.append("name must be shorter than or equal to 40 characters")
    errors += server_errors(body.get("server"))
    messages = body.get("serverMessages")
    if messages is not None:
        if not isinstance(messages, list):
            errors.append("serverMessages must be an array")
        else:
            for value in messages:
                if value not in SERVER_MESSAGE_TYPES:
                    errors.append(
                        f"each value in serverMessages must be one of the following values: "
                        f"{', '.join(sorted(SERVER_MESSAGE_TYPES))}"
                    )
                    break
    model = body.get("model")
    if model is not None:
        if not isinstance(model, dict) or not model.get("provider"):
            errors.append("model.provider must be a string")
        elif model.get("tools") is not None and not isinstance(model["tools"], list):
            errors.append("model.tools must be an array")
    duration = body.get("maxDurationSeconds")
    if duration is not None and (not isinstance(duration, (int, float)) or not 10 <= duration <= 43200):
        errors.append("maxDurationSeconds must not be less than 10 and not be greater than 43200")
    return errors


def tool_errors(body: dict[str, Any], *, partial: bool) -> list[str]:
    errors: list[str] = []
    tool_type = body.get("type")
    if not partial or "type" in body:
        if tool_type not in TOOL_TYPES:
            errors.append(f"type must be one of the following values: {', '.join(sorted(TOOL_TYPES))}")
    function = body.get("function")
    if tool_type == "function" and not partial and not isinstance(function, dict):
        errors.append("function must be an object")
    if isinstance(function, dict):
        name = function.get("name")
        if not isinstance(name, str) or not FUNCTION_NAME.match(name):
            errors.append(
                "function.name must be a-z, A-Z, 0-9, or contain underscores and dashes, with a "
                "maximum length of 64"
            )
        params = function.get("parameters")
        if params is not None and (not isinstance(params, dict) or params.get("type") != "object"):
            errors.append("function.parameters.type must be one of the following values: object")
    errors += server_errors(body.get("server"))
    return errors


def credential_errors(body: dict[str, Any], *, partial: bool) -> list[str]:
    """CreateWebhookCredentialDto: provider ``webhook`` with a bearer/hmac/oauth2 authenticationPlan."""
    errors: list[str] = []
    provider = body.get("provider")
    if not partial and not isinstance(provider, str):
        errors.append("provider must be a string")
    plan = body.get("authenticationPlan")
    if provider == "webhook" and not partial and plan is None:
        errors.append("authenticationPlan should not be null or undefined")
    if plan is None:
        return errors
    if not isinstance(plan, dict):
        return [*errors, "authenticationPlan must be an object"]
    kind = plan.get("type")
    if kind == "bearer":
        if not isinstance(plan.get("token"), str) or not plan["token"]:
            errors.append("authenticationPlan.token must be a string")
    elif kind == "hmac":
        if not isinstance(plan.get("secretKey"), str) or not plan["secretKey"]:
            errors.append("authenticationPlan.secretKey must be a string")
        if plan.get("algorithm", "sha256") not in HMAC_ALGORITHMS:
            errors.append(
                "authenticationPlan.algorithm must be one of the following values: sha256, sha512, sha1"
            )
        if plan.get("signatureEncoding", "hex") not in ("hex", "base64"):
            errors.append(
                "authenticationPlan.signatureEncoding must be one of the following values: hex, base64"
            )
    elif kind == "oauth2":
        for key in ("url", "clientId", "clientSecret"):
            if not isinstance(plan.get(key), str) or not plan[key]:
                errors.append(f"authenticationPlan.{key} must be a string")
    else:
        errors.append("authenticationPlan.type must be one of the following values: bearer, hmac, oauth2")
    return errors
