"""Processors for informational server messages, one small function per type.

Each runs inside the processing transaction with the Call row locked, and must be
idempotent and order-tolerant: applying the same event twice, or events of one call in
any order, ends in the same Call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from calls.enums import Direction
from calls.models import Call
from calls.models.transfers import TransferSource
from calls.services.processors.calls import call_link, call_lock, call_save, from_epoch_ms
from calls.services.processors.reports import call_apply_report
from calls.services.processors.status import call_apply_status_update
from calls.services.processors.transcripts import conversation_update_apply, transcript_final_apply
from calls.services.transfers import call_transfer_record, report_transfers_apply
from voiceops.vapi import messages as types
from voiceops.vapi.messages import ServerMessage

log = structlog.get_logger(__name__)

Processor = Callable[[Call, ServerMessage], list[str]]


def _status_update(call: Call, parsed: ServerMessage) -> list[str]:
    at = from_epoch_ms(parsed.timestamp)
    if parsed.message.get("status") == "forwarding":
        call_transfer_record(
            call=call, source=TransferSource.FORWARDING, destination=parsed.message.get("destination"), at=at
        )
    return call_apply_status_update(call=call, message=parsed.message, at=at)


def _end_of_call_report(call: Call, parsed: ServerMessage) -> list[str]:
    at = from_epoch_ms(parsed.timestamp)
    report_transfers_apply(call=call, report=parsed.message, at=at)
    return call_apply_report(call=call, report=parsed.message, at=at)


def _transfer_update(call: Call, parsed: ServerMessage) -> list[str]:
    message = parsed.message
    detail = " ".join(
        f"{key} {message[key].get('name') if isinstance(message[key], dict) else message[key]}"
        for key in ("toAssistant", "fromAssistant")
        if message.get(key)
    )
    call_transfer_record(
        call=call,
        source=TransferSource.TRANSFER_UPDATE,
        destination=message.get("destination"),
        detail=detail if isinstance(detail, str) else "",
        at=from_epoch_ms(parsed.timestamp),
    )
    return []


def _transcript(call: Call, parsed: ServerMessage) -> list[str]:
    if parsed.message.get("transcriptType", "final") == "final":
        transcript_final_apply(call=call, message=parsed.message, timestamp=parsed.timestamp)
    return []


def _conversation_update(call: Call, parsed: ServerMessage) -> list[str]:
    conversation_update_apply(call=call, message=parsed.message, timestamp=parsed.timestamp)
    return []


def _hang(call: Call, parsed: ServerMessage) -> list[str]:
    # Vapi sends hang when the assistant stalls, often waiting on our tool endpoint.
    log.warning("call.assistant_stalled")
    return []


def _link_only(call: Call, parsed: ServerMessage) -> list[str]:
    return []


def _assistant_request(call: Call, parsed: ServerMessage) -> list[str]:
    """Answered in the request (which created the call); replays only re-link."""
    return []


PROCESSORS: dict[str, Processor] = {
    types.STATUS_UPDATE: _status_update,
    types.END_OF_CALL_REPORT: _end_of_call_report,
    types.TRANSCRIPT: _transcript,
    types.TRANSCRIPT_FINAL_ONLY: _transcript,
    types.CONVERSATION_UPDATE: _conversation_update,
    types.HANG: _hang,
    types.USER_INTERRUPTED: _link_only,
    types.SPEECH_UPDATE: _link_only,
    types.MODEL_OUTPUT: _link_only,
    types.VOICE_INPUT: _link_only,
    types.PHONE_CALL_CONTROL: _link_only,
    types.TRANSFER_UPDATE: _transfer_update,
    types.LANGUAGE_CHANGE_DETECTED: _link_only,
    types.LANGUAGE_CHANGED: _link_only,
    types.ASSISTANT_STARTED: _link_only,
    types.ASSISTANT_SPEECH_STARTED: _link_only,
    types.ASSISTANT_REQUEST: _assistant_request,
}


def has_processor(message_type: str) -> bool:
    return message_type in PROCESSORS


def message_process(*, parsed: ServerMessage) -> Call | None:
    """Apply one informational message; returns the call it touched (None without a call id)."""
    processor = PROCESSORS.get(parsed.type)
    if processor is None or not parsed.call_id:
        return None
    fallback = Direction.INBOUND if parsed.type == types.ASSISTANT_REQUEST else Direction.OUTBOUND
    call = call_lock(vapi_call_id=parsed.call_id, message=parsed.message, fallback_direction=fallback)
    at = from_epoch_ms(parsed.timestamp)
    fields = call_link(call=call, message=parsed.message, at=at)
    fields += processor(call, parsed)
    call_save(call=call, fields=[*fields, "last_event_at"])
    return call


def processor_names() -> list[str]:
    return sorted(PROCESSORS)


__all__: list[Any] = ["PROCESSORS", "has_processor", "message_process", "processor_names"]
