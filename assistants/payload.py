"""The Vapi ``CreateAssistantDto`` for one Assistant, and its canonical hash.

Field names follow CONTRACT §7.2 and ``tests/fixtures/vapi/rest/assistant-create-request.json``.
The server block is built from settings only (never typed into an assistant), so every
assistant points at this deployment's webhook with the same credential, timeout and retries.
The hash is over a canonical JSON encoding (sorted keys, no whitespace) so that "unchanged"
means byte-identical content, independent of dict ordering.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings

from assistants.models import Assistant
from assistants.routing.transfers import transfer_tool
from tools.registry import vapi_tool_definitions
from voiceops.vapi.voicemail import voicemail_plan_for_payload

JSON = dict[str, Any]

WEBHOOK_PATH = "/webhooks/vapi/"
METADATA_ID_KEY = "voiceops_assistant_id"
# Failed deliveries with these statuses are not worth retrying: our answer will not change.
BACKOFF_EXCLUDED_STATUS_CODES = [400, 401, 403, 404, 413]
# OpenAPI BackoffPlan: type enum, maxRetries 0..10, baseDelaySeconds 0..10.
BACKOFF_TYPES = ("fixed", "exponential")
BACKOFF_MAX_RETRIES = 10
BACKOFF_MAX_DELAY = 10.0


def webhook_url() -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{WEBHOOK_PATH}"


def server_block(*, credential_id: str | None) -> JSON:
    """Vapi ``Server``: where messages go, how they authenticate, and how failures are retried.

    Vapi does not retry a failed delivery unless ``backoffPlan`` is set (CONTRACT §6).
    """
    block: JSON = {"url": webhook_url(), "timeoutSeconds": settings.VAPI_SERVER_TIMEOUT_SECONDS}
    if credential_id:
        block["credentialId"] = credential_id
    retries = min(BACKOFF_MAX_RETRIES, max(0, settings.VAPI_SERVER_BACKOFF_MAX_RETRIES))
    if retries > 0:
        kind = (
            settings.VAPI_SERVER_BACKOFF_TYPE
            if settings.VAPI_SERVER_BACKOFF_TYPE in BACKOFF_TYPES
            else "fixed"
        )
        block["backoffPlan"] = {
            "type": kind,
            "maxRetries": retries,
            "baseDelaySeconds": min(
                BACKOFF_MAX_DELAY, max(0.0, settings.VAPI_SERVER_BACKOFF_BASE_DELAY_SECONDS)
            ),
            "excludedStatusCodes": list(BACKOFF_EXCLUDED_STATUS_CODES),
        }
    return block


def _tool_definitions(assistant: Assistant) -> list[JSON]:
    """Inline function tools (each with its own server block) from the tool registry."""
    return list(vapi_tool_definitions(assistant=assistant))


def _with_credential(tools: list[JSON], credential_id: str | None) -> list[JSON]:
    """Tool calls go to ``tool.server.url`` (CONTRACT §1), so each tool's server block needs
    our credential too, or the webhook would refuse the very calls a caller waits on."""
    if not credential_id:
        return tools
    result = []
    for tool in tools:
        server = tool.get("server")
        if isinstance(server, dict) and not server.get("credentialId"):
            tool = {**tool, "server": {**server, "credentialId": credential_id}}
        result.append(tool)
    return result


def assistant_payload(*, assistant: Assistant, credential_id: str | None) -> JSON:
    """The body of ``POST /assistant`` (and of ``PATCH /assistant/{id}``) for this assistant."""
    model: JSON = {
        "provider": assistant.model_provider,
        "model": assistant.model_name,
        "temperature": assistant.temperature,
        "maxTokens": assistant.max_tokens,
    }
    if assistant.system_prompt:
        model["messages"] = [{"role": "system", "content": assistant.system_prompt}]
    tools = _with_credential(_tool_definitions(assistant), credential_id)
    transfer = transfer_tool(list(assistant.transfer_destinations.all())) if assistant.pk else None
    if transfer is not None:
        tools.append(transfer)
    if tools:
        model["tools"] = tools

    transcriber: JSON = {"provider": assistant.transcriber_provider}
    if assistant.transcriber_model:
        transcriber["model"] = assistant.transcriber_model
    if assistant.transcriber_language:
        transcriber["language"] = assistant.transcriber_language

    payload: JSON = {"name": assistant.name}
    if assistant.first_message:
        payload["firstMessage"] = assistant.first_message
    payload["firstMessageMode"] = assistant.first_message_mode
    payload["model"] = model
    payload["voice"] = {"provider": assistant.voice_provider, "voiceId": assistant.voice_id}
    payload["transcriber"] = transcriber
    payload["serverMessages"] = list(assistant.server_messages or [])
    payload["server"] = server_block(credential_id=credential_id)
    payload["maxDurationSeconds"] = assistant.max_duration_seconds
    if assistant.voicemail_message:
        payload["voicemailMessage"] = assistant.voicemail_message
    detection = voicemail_plan_for_payload(assistant.voicemail_detection)
    if detection is not None:
        payload["voicemailDetection"] = detection
    if assistant.end_call_message:
        payload["endCallMessage"] = assistant.end_call_message
    if assistant.end_call_phrases:
        payload["endCallPhrases"] = list(assistant.end_call_phrases)
    payload["analysisPlan"] = _analysis_plan(assistant)
    payload["artifactPlan"] = {
        "recordingEnabled": assistant.recording_enabled,
        "recordingFormat": assistant.recording_format,
    }
    # Our id rides along so a create whose answer was lost can be found and adopted later.
    payload["metadata"] = {**(assistant.metadata or {}), METADATA_ID_KEY: str(assistant.pk)}
    return payload


def _analysis_plan(assistant: Assistant) -> JSON:
    summary: JSON = {"enabled": True}
    if assistant.summary_prompt:
        summary["messages"] = [{"role": "system", "content": assistant.summary_prompt}]
    plan: JSON = {"summaryPlan": summary}
    if assistant.structured_data_schema:
        plan["structuredDataPlan"] = {"enabled": True, "schema": assistant.structured_data_schema}
    if assistant.success_rubric:
        plan["successEvaluationPlan"] = {"enabled": True, "rubric": assistant.success_rubric}
    return plan


def canonical_json(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def payload_hash(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def update_body(*, payload: JSON, previous: JSON | None) -> JSON:
    """The PATCH body: the whole payload, plus ``null`` for top-level fields we pushed before
    and no longer set, so that clearing e.g. the voicemail message clears it in Vapi too
    (PATCH leaves absent fields untouched; CONTRACT §7.2 advises complete nested objects)."""
    body = dict(payload)
    for key in previous or {}:
        if key not in body:
            body[key] = None
    return body
