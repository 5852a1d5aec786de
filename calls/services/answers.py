"""Answers to the message types Vapi waits on (CONTRACT §4.1-4.3, §4.11).

Every function returns the unwrapped body Vapi expects and never raises for a payload
problem: a caller is on the line, so the worst case is a sentence that can be spoken.
assistant-request has its own package (calls/services/assistant_request/): it is the one
answer measured against a latency budget.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.utils import timezone

from assistants.models import Assistant
from assistants.routing.transfers import destination_body, transfer_destination_choose
from calls.models.transfers import TransferSource
from calls.services.processors.calls import (
    as_dict,
    call_lock,
    from_epoch_ms,
    phone_number_for,
)
from calls.services.transfers import call_transfer_record
from voiceops.sqlbatch import Pending
from voiceops.vapi.messages import ServerMessage, tool_call_ids

log = structlog.get_logger(__name__)

NUMBER_NOT_CONFIGURED = "Sorry, this number is not set up to take calls right now. Please try again later."
NO_ASSISTANT = "Sorry, no one is available to take your call right now. Please try again later."
NO_TRANSFER = "Sorry, I can't transfer your call right now."
NO_HANDOFF = "Sorry, I can't hand your call over right now."
TOOL_UNAVAILABLE = "Sorry, I can't do that right now."
TRANSFER_MESSAGE = "Transferring you now, please hold."


def transfer_destination_answer(*, parsed: ServerMessage) -> dict[str, Any]:
    """A person to transfer to, chosen by the assistant's destinations (department asked,
    opening hours of the called number); else the number's fixed transfer number; else a
    spoken refusal. The choice is kept on the call (CallTransfer, source "request")."""
    message = parsed.message
    phone = phone_number_for(message)
    assistant = _assistant_of(message)
    destinations = list(assistant.transfer_destinations.all()) if assistant is not None else []
    chosen, why = transfer_destination_choose(
        destinations=destinations, phone_number=phone, message=message, at=timezone.now()
    )
    if chosen is not None:
        answer: dict[str, Any] = {"destination": destination_body(chosen)}
    elif phone is not None and phone.transfer_destination and not destinations:
        answer = {
            "destination": {
                "type": "number",
                "number": str(phone.transfer_destination),
                "message": TRANSFER_MESSAGE,
            }
        }
        why = "the number's transfer destination"
    else:
        answer = {"error": NO_TRANSFER}
    if parsed.call_id:
        call = call_lock(vapi_call_id=parsed.call_id, message=message)
        call_transfer_record(
            call=call,
            source=TransferSource.REQUEST,
            destination=answer.get("destination") or {},
            detail=f"{'Chose' if 'destination' in answer else 'Refused'}: {why}",
            at=from_epoch_ms(parsed.timestamp),
        )
    return answer


def _assistant_of(message: dict[str, Any]) -> Assistant | None:
    """The call's assistant, by the Vapi id in the message (the assistant on the call now)."""
    vapi_id = as_dict(message.get("assistant")).get("id") or as_dict(message.get("call")).get("assistantId")
    if not isinstance(vapi_id, str) or not vapi_id:
        return None
    return Assistant.objects.filter(vapi_id=vapi_id).first()


def handoff_destination_answer(*, parsed: ServerMessage) -> dict[str, Any]:
    """voiceops configures no dynamic handoffs (squads), so it refuses them: Vapi requires a
    ``destination`` object in every answer, and ``error`` tells it not to hand off."""
    return {"destination": {}, "error": NO_HANDOFF, "result": NO_HANDOFF}


def knowledge_base_answer(*, parsed: ServerMessage) -> dict[str, Any]:
    """We host no custom knowledge base: a valid empty answer lets the model go on."""
    return {"documents": []}


def tool_calls_fallback(*, parsed: ServerMessage) -> dict[str, Any]:
    """What to answer when the dispatcher itself failed: one speakable error per tool call."""
    results = []
    for item in parsed.message.get("toolCallList") or []:
        if isinstance(item, dict) and item.get("id"):
            name = as_dict(item.get("function")).get("name") or item.get("name") or ""
            results.append({"toolCallId": str(item["id"]), "name": str(name), "error": TOOL_UNAVAILABLE})
    if not results and not tool_call_ids(parsed.message):
        return {"results": [], "error": TOOL_UNAVAILABLE}
    return {"results": results}


def tool_calls_answer(
    *, parsed: ServerMessage, event_id: int | None, tail: list[Pending] | None = None
) -> dict[str, Any]:
    from tools import dispatcher

    return dispatcher.tool_calls_answer(message=parsed.message, event_id=event_id, tail=tail)


def function_call_answer(
    *, parsed: ServerMessage, event_id: int | None, tail: list[Pending] | None = None
) -> dict[str, Any]:
    """Legacy ``function-call``: the same tools, answered as ``{"result": "..."}``."""
    from tools import dispatcher

    return dispatcher.function_call_answer(message=parsed.message, event_id=event_id, tail=tail)
