"""Typed parsing of Vapi server-message envelopes (CONTRACT §3, §4, §6).

Dispatch is on ``message.type`` only (the SDK union is not discriminated). Parsing is
strict about the envelope (a JSON object whose ``message`` is an object with a string
``type``) and lenient about everything else: unknown siblings, unknown types and odd
field types are tolerated, because Vapi keeps adding them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from voiceops.vapi.text import document_storable, may_hold_hostile_text

# Types Vapi waits on: the answer goes back in the same request.
ASSISTANT_REQUEST = "assistant-request"
TOOL_CALLS = "tool-calls"
TRANSFER_DESTINATION_REQUEST = "transfer-destination-request"
KNOWLEDGE_BASE_REQUEST = "knowledge-base-request"
HANDOFF_DESTINATION_REQUEST = "handoff-destination-request"
# Older assistants (``model.functions``) still send this and wait for ``{"result": ...}``.
FUNCTION_CALL = "function-call"
CAMPAIGN_PREDIAL = "campaign.predial"
REQUEST_RESPONSE_TYPES = frozenset(
    {
        ASSISTANT_REQUEST,
        TOOL_CALLS,
        TRANSFER_DESTINATION_REQUEST,
        KNOWLEDGE_BASE_REQUEST,
        HANDOFF_DESTINATION_REQUEST,
        FUNCTION_CALL,
        CAMPAIGN_PREDIAL,
    }
)

# Informational types we process after acknowledging.
STATUS_UPDATE = "status-update"
END_OF_CALL_REPORT = "end-of-call-report"
TRANSCRIPT = "transcript"
TRANSCRIPT_FINAL_ONLY = 'transcript[transcriptType="final"]'
CONVERSATION_UPDATE = "conversation-update"
SPEECH_UPDATE = "speech-update"
MODEL_OUTPUT = "model-output"
HANG = "hang"
USER_INTERRUPTED = "user-interrupted"
VOICE_INPUT = "voice-input"
PHONE_CALL_CONTROL = "phone-call-control"
TRANSFER_UPDATE = "transfer-update"
LANGUAGE_CHANGE_DETECTED = "language-change-detected"
LANGUAGE_CHANGED = "language-changed"
ASSISTANT_STARTED = "assistant.started"
ASSISTANT_SPEECH_STARTED = "assistant.speechStarted"

# A partial transcript is reported under this pseudo type for the high-volume setting.
TRANSCRIPT_PARTIAL = "transcript-partial"

MAX_TYPE_LENGTH = 100  # WebhookEvent.message_type
MAX_CALL_ID_LENGTH = 64  # WebhookEvent.vapi_call_id


class EnvelopeError(ValueError):
    """The body is not a Vapi server message. ``reason`` is answered to the sender (400)."""

    def __init__(self, reason: str, *, code: str = "invalid_envelope") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def reject_constant(name: str) -> Any:
    """For json.loads: NaN and Infinity are not JSON, and Postgres refuses them in jsonb."""
    raise ValueError(f"{name} is not valid JSON")


def _clean_text(value: object, *, max_length: int) -> str | None:
    """A string Postgres can store in a varchar of ``max_length`` (no NUL, no lone surrogates)."""
    if not isinstance(value, str) or not value or len(value) > max_length or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def _depth_exceeds(document: Any, limit: int) -> bool:
    """Iterative depth walk: never recurses, stops at the first container past ``limit``."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values() if isinstance(child, dict | list))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, dict | list))
    return False


@dataclass(frozen=True)
class ServerMessage:
    """One parsed server message: the inner ``message`` object plus what the ledger indexes."""

    type: str
    message: dict[str, Any]
    call_id: str
    timestamp: int | None

    @property
    def call(self) -> dict[str, Any]:
        call = self.message.get("call")
        return call if isinstance(call, dict) else {}

    @property
    def is_request_response(self) -> bool:
        return self.type in REQUEST_RESPONSE_TYPES

    @property
    def is_transcript(self) -> bool:
        return self.type in (TRANSCRIPT, TRANSCRIPT_FINAL_ONLY)

    @property
    def is_partial_transcript(self) -> bool:
        return self.is_transcript and self.message.get("transcriptType") == "partial"

    @property
    def volume_type(self) -> str:
        """The type as the high-volume setting names it (partials are ``transcript-partial``)."""
        return TRANSCRIPT_PARTIAL if self.is_partial_transcript else self.type

    def dedupe_key(self, body: bytes) -> str:
        """Idempotency key from the content, since Vapi sends no event id (CONTRACT §6).

        Transitions that can happen once per call are keyed by what they are, so a
        redelivery whose snapshot fields changed is still recognised; everything else by
        the exact bytes (a redelivery is the same body). Hashed to a fixed length.
        """
        parts: list[str]
        msg = self.message
        if self.type == STATUS_UPDATE and isinstance(msg.get("status"), str) and self.call_id:
            parts = [self.call_id, self.type, msg["status"]]
        elif self.type in (END_OF_CALL_REPORT, ASSISTANT_REQUEST) and self.call_id:
            parts = [self.call_id, self.type]
        elif self.type == TOOL_CALLS and tool_call_ids(msg) and self.call_id:
            # toolCallIds are unique per call only (providers reuse ``call_0``): key by both.
            parts = [self.type, self.call_id, *sorted(tool_call_ids(msg))]
        else:
            parts = [self.type, hashlib.sha256(body).hexdigest()]
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self.type[:60]}:{digest}"


def tool_call_ids(message: dict[str, Any]) -> list[str]:
    items = message.get("toolCallList")
    if not isinstance(items, list):
        return []
    return [str(item["id"]) for item in items if isinstance(item, dict) and item.get("id")]


def parse_server_message(body: bytes, *, max_depth: int) -> ServerMessage:
    """Parse and validate the envelope; raise :class:`EnvelopeError` with a specific reason."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise EnvelopeError("The body is not UTF-8 text.", code="invalid_encoding")
    try:
        document = json.loads(text, parse_constant=reject_constant)
    except RecursionError:
        raise EnvelopeError(f"JSON nested deeper than {max_depth} levels.", code="too_deep")
    except ValueError as exc:
        raise EnvelopeError(f"The body is not valid JSON: {exc}.", code="invalid_json")
    # Counting brackets is C-speed; only walk the tree when it could be too deep.
    if text.count("{") + text.count("[") > max_depth and _depth_exceeds(document, max_depth):
        raise EnvelopeError(f"JSON nested deeper than {max_depth} levels.", code="too_deep")
    if not isinstance(document, dict):
        raise EnvelopeError("The body must be a JSON object with a 'message' object.", code="not_an_object")
    message = document.get("message")
    if not isinstance(message, dict):
        raise EnvelopeError("'message' must be a JSON object.", code="no_message")
    raw_type = message.get("type")
    if not isinstance(raw_type, str) or not raw_type.strip():
        raise EnvelopeError("'message.type' must be a non-empty string.", code="no_type")
    message_type = _clean_text(raw_type, max_length=MAX_TYPE_LENGTH)
    if message_type is None:
        raise EnvelopeError(
            f"'message.type' must be printable text of at most {MAX_TYPE_LENGTH} characters.", code="bad_type"
        )
    if may_hold_hostile_text(text):
        # Callers' words may carry NUL or a lone surrogate: stored and processed without them.
        message = document_storable(message)
    call = message.get("call")
    call_id = _clean_text(call.get("id"), max_length=MAX_CALL_ID_LENGTH) if isinstance(call, dict) else None
    raw_timestamp = message.get("timestamp")
    timestamp: int | None = None
    if isinstance(raw_timestamp, int | float) and not isinstance(raw_timestamp, bool):
        if raw_timestamp == raw_timestamp and abs(raw_timestamp) < 2**62:  # not NaN, fits a bigint
            timestamp = int(raw_timestamp)
    return ServerMessage(type=message_type, message=message, call_id=call_id or "", timestamp=timestamp)
