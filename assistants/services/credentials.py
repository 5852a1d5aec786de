"""The webhook credential voiceops keeps in Vapi (``POST/PATCH /credential``, provider ``webhook``).

Vapi signs or authenticates every server message with it; assistants reference it by id
(``server.credentialId``). It is derived from settings: the first ``VAPI_WEBHOOK_SECRET`` is
the current secret (the others stay accepted by our webhook during a rotation), and the
scheme matches what our verifier checks (``VAPI_WEBHOOK_HMAC_*``, ``VAPI_WEBHOOK_BEARER_HEADER``).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assistants.models import WebhookCredential
from assistants.payload import canonical_json
from voiceops.errors import DomainError
from voiceops.vapi.client import VapiNotFound, get_client

log = structlog.get_logger(__name__)

CREDENTIAL_NAME = "voiceops webhook"
AUTH_TYPES = ("hmac", "bearer", "secret")


def webhook_auth_type() -> str | None:
    """The scheme of the credential we create, or None when no secret is configured."""
    if not settings.VAPI_WEBHOOK_SECRET:
        return None
    configured = (settings.VAPI_WEBHOOK_CREDENTIAL_TYPE or "").strip().lower()
    if configured:
        if configured not in AUTH_TYPES:
            raise DomainError(
                f"VAPI_WEBHOOK_CREDENTIAL_TYPE must be one of {', '.join(AUTH_TYPES)} (got {configured!r}).",
                code="misconfigured",
            )
        return configured
    accepted = [scheme.strip().lower() for scheme in settings.VAPI_WEBHOOK_AUTH]
    for scheme in AUTH_TYPES:
        if scheme in accepted:
            return scheme
    return None


def authentication_plan(*, auth_type: str, secret: str) -> dict[str, Any]:
    """Vapi ``authenticationPlan`` (CONTRACT §2.2) matching our webhook verifier's settings."""
    if auth_type == "hmac":
        payload_format = settings.VAPI_WEBHOOK_HMAC_PAYLOAD_FORMAT
        plan: dict[str, Any] = {
            "type": "hmac",
            "secretKey": secret,
            "algorithm": settings.VAPI_WEBHOOK_HMAC_ALGORITHM,
            "signatureHeader": settings.VAPI_WEBHOOK_HMAC_SIGNATURE_HEADER,
            "timestampHeader": settings.VAPI_WEBHOOK_HMAC_TIMESTAMP_HEADER,
            "includeTimestamp": "{timestamp}" in payload_format,
            "payloadFormat": payload_format,
            "signatureEncoding": settings.VAPI_WEBHOOK_HMAC_ENCODING,
        }
        if settings.VAPI_WEBHOOK_HMAC_PREFIX:
            plan["signaturePrefix"] = settings.VAPI_WEBHOOK_HMAC_PREFIX
        return plan
    if auth_type == "bearer":
        header = settings.VAPI_WEBHOOK_BEARER_HEADER or "Authorization"
        return {
            "type": "bearer",
            "token": secret,
            "headerName": header,
            "bearerPrefixEnabled": header.lower() == "authorization",
        }
    # Legacy shared secret, delivered as X-Vapi-Secret through a prefix-less bearer credential.
    return {"type": "bearer", "token": secret, "headerName": "X-Vapi-Secret", "bearerPrefixEnabled": False}


def _fingerprint(body: dict[str, Any]) -> str:
    """Keyed digest of the credential body: detects changes without storing the secret."""
    return hmac.new(settings.SECRET_KEY.encode(), canonical_json(body).encode(), hashlib.sha256).hexdigest()


def webhook_credential_ensure() -> str | None:
    """The Vapi id of our webhook credential, creating or updating it when settings changed.

    Returns None (and pushes then carry no ``credentialId``) when no secret is configured.
    The singleton row is locked so two concurrent pushes never create two credentials.
    """
    auth_type = webhook_auth_type()
    if auth_type is None:
        log.warning("assistants.webhook_credential.none", reason="VAPI_WEBHOOK_SECRET empty or no scheme")
        return None
    body = {
        "provider": "webhook",
        "name": CREDENTIAL_NAME,
        "authenticationPlan": authentication_plan(
            auth_type=auth_type, secret=settings.VAPI_WEBHOOK_SECRET[0]
        ),
    }
    fingerprint = _fingerprint(body)
    with transaction.atomic():
        WebhookCredential.objects.get_or_create(id=WebhookCredential.SINGLETON)
        row = WebhookCredential.objects.select_for_update().get(id=WebhookCredential.SINGLETON)
        if row.vapi_id and row.fingerprint == fingerprint:
            return row.vapi_id
        client = get_client()
        created = False
        if row.vapi_id:
            try:
                client.credential_update(row.vapi_id, body)
            except VapiNotFound:
                row.vapi_id = ""
        if not row.vapi_id:
            response = client.credential_create(body)
            row.vapi_id = str((response or {}).get("id") or "")
            created = True
            if not row.vapi_id:
                raise DomainError(
                    "Vapi created the webhook credential but returned no id.", code="vapi_no_id"
                )
        row.auth_type = auth_type
        row.fingerprint = fingerprint
        row.synced_at = timezone.now()
        row.save()
        log.info(
            "assistants.webhook_credential.synced", credential_id=row.vapi_id, type=auth_type, created=created
        )
        return row.vapi_id
