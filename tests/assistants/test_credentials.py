"""The webhook credential voiceops keeps in Vapi."""

from __future__ import annotations

import pytest
import responses

from assistants.models import WebhookCredential
from assistants.services.credentials import authentication_plan, webhook_auth_type, webhook_credential_ensure
from tests.assistants.conftest import CREDENTIAL_ID, VAPI, body_of, calls_to
from voiceops.errors import DomainError

pytestmark = pytest.mark.django_db


def test_created_once_then_reused(vapi):
    assert webhook_credential_ensure() == CREDENTIAL_ID
    assert webhook_credential_ensure() == CREDENTIAL_ID
    posts = calls_to(vapi, "POST", "/credential")
    assert len(posts) == 1
    body = body_of(posts[0])
    assert body["provider"] == "webhook"
    plan = body["authenticationPlan"]
    assert plan == {
        "type": "hmac",
        "secretKey": "whsec-current-7a1d",
        "algorithm": "sha256",
        "signatureHeader": "x-signature",
        "timestampHeader": "x-timestamp",
        "includeTimestamp": True,
        "payloadFormat": "{timestamp}.{body}",
        "signatureEncoding": "hex",
    }
    row = WebhookCredential.objects.get()
    assert row.vapi_id == CREDENTIAL_ID and row.auth_type == "hmac"
    # Only a keyed fingerprint is stored, never the secret.
    assert "whsec" not in row.fingerprint and len(row.fingerprint) == 64


def test_secret_rotation_patches_the_credential(vapi, settings):
    webhook_credential_ensure()
    settings.VAPI_WEBHOOK_SECRET = ["whsec-next-9999", "whsec-current-7a1d"]
    assert webhook_credential_ensure() == CREDENTIAL_ID
    patches = calls_to(vapi, "PATCH", f"/credential/{CREDENTIAL_ID}")
    assert len(patches) == 1
    assert body_of(patches[0])["authenticationPlan"]["secretKey"] == "whsec-next-9999"
    assert len(calls_to(vapi, "POST", "/credential")) == 1


def test_credential_deleted_in_vapi_is_recreated(vapi, settings):
    WebhookCredential.objects.create(vapi_id="gone", fingerprint="stale")
    vapi.add(responses.PATCH, f"{VAPI}/credential/gone", json={"message": "Not Found"}, status=404)
    assert webhook_credential_ensure() == CREDENTIAL_ID
    assert WebhookCredential.objects.get().vapi_id == CREDENTIAL_ID


def test_no_secret_means_no_credential(vapi, settings):
    settings.VAPI_WEBHOOK_SECRET = []
    assert webhook_credential_ensure() is None
    assert len(vapi.calls) == 0


def test_scheme_follows_settings(settings):
    settings.VAPI_WEBHOOK_AUTH = ["bearer", "secret"]
    assert webhook_auth_type() == "bearer"
    settings.VAPI_WEBHOOK_AUTH = ["secret"]
    assert webhook_auth_type() == "secret"
    settings.VAPI_WEBHOOK_CREDENTIAL_TYPE = "hmac"
    assert webhook_auth_type() == "hmac"
    settings.VAPI_WEBHOOK_CREDENTIAL_TYPE = "oauth"
    with pytest.raises(DomainError, match="VAPI_WEBHOOK_CREDENTIAL_TYPE"):
        webhook_auth_type()


def test_bearer_and_legacy_secret_plans(settings):
    assert authentication_plan(auth_type="bearer", secret="s") == {
        "type": "bearer",
        "token": "s",
        "headerName": "Authorization",
        "bearerPrefixEnabled": True,
    }
    settings.VAPI_WEBHOOK_BEARER_HEADER = "X-Api-Token"
    assert authentication_plan(auth_type="bearer", secret="s")["bearerPrefixEnabled"] is False
    assert authentication_plan(auth_type="secret", secret="s") == {
        "type": "bearer",
        "token": "s",
        "headerName": "X-Vapi-Secret",
        "bearerPrefixEnabled": False,
    }
    settings.VAPI_WEBHOOK_HMAC_PREFIX = "sha256="
    settings.VAPI_WEBHOOK_HMAC_PAYLOAD_FORMAT = "{body}"
    plan = authentication_plan(auth_type="hmac", secret="s")
    assert plan["signaturePrefix"] == "sha256=" and plan["includeTimestamp"] is False
