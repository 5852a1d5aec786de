"""Answers to the message types Vapi waits on (CONTRACT §4.1-4.3, §4.11).

Every function returns the unwrapped body Vapi expects and never raises for a payload
problem: a caller is on the line, so the worst case is a sentence that can be spoken.
"""

from __future__ import annotations

from typing import Any

import structlog

from calls.enums import CallStatus, Direction
from calls.services.call_status import call_apply_status
from calls.services.processors.calls import (
    as_dict,
    call_link,
    call_lock,
    call_save,
    customer_for_number,
    customer_name_of,
    customer_number_of,
    from_epoch_ms,
    phone_number_for,
)
from voiceops.logging import mask_number
from voiceops.vapi.messages import ServerMessage, tool_call_ids

log = structlog.get_logger(__name__)

NUMBER_NOT_CONFIGURED = "Sorry, this number is not set up to take calls right now. Please try again later."
NO_ASSISTANT = "Sorry, no one is available to take your call right now. Please try again later."
NO_TRANSFER = "Sorry, I can't transfer your call right now."
TOOL_UNAVAILABLE = "Sorry, I can't do that right now."
TRANSFER_MESSAGE = "Transferring you now, please hold."


def assistant_request_answer(*, parsed: ServerMessage) -> dict[str, Any]:
    """Pick the assistant for the dialed number; a known caller's details go in as variables.

    Also creates (or links) the inbound Call row, so everything later about this call
    finds its assistant, number and customer.
    """
    message = parsed.message
    phone = phone_number_for(message)
    number = customer_number_of(message)
    log.info(
        "webhook.assistant_request", caller=mask_number(number), phone_number_id=getattr(phone, "pk", None)
    )
    if phone is None:
        return {"error": NUMBER_NOT_CONFIGURED}
    assistant = phone.assistant
    customer = customer_for_number(number=number, name=customer_name_of(message)) if number else None
    if parsed.call_id:
        call = call_lock(vapi_call_id=parsed.call_id, message=message, fallback_direction=Direction.INBOUND)
        fields: list[str] = []
        if call.phone_number_id is None:
            call.phone_number = phone
            fields.append("phone_number")
        if assistant is not None and call.assistant_id is None:
            call.assistant = assistant
            call.assistant_version = assistant.pushed_version
            call.vapi_assistant_id = assistant.vapi_id or ""
            fields += ["assistant", "assistant_version", "vapi_assistant_id"]
        if customer is not None and call.customer_id is None:
            call.customer = customer
            fields.append("customer")
        fields += call_link(call=call, message=message, at=from_epoch_ms(parsed.timestamp))
        call_apply_status(call=call, status=CallStatus.RINGING, at=from_epoch_ms(parsed.timestamp))
        call_save(call=call, fields=fields)
    if assistant is None or not assistant.vapi_id:
        return {"error": NO_ASSISTANT}
    variables: dict[str, str] = {"customerName": "there"}
    if customer is not None and customer.name:
        variables["customerName"] = customer.name
    if customer is not None:
        for key, value in (
            ("customerEmail", customer.email),
            ("customerExternalId", customer.external_id),
            ("customerTimeZone", customer.time_zone),
        ):
            if value:
                variables[key] = value
    return {"assistantId": assistant.vapi_id, "assistantOverrides": {"variableValues": variables}}


def transfer_destination_answer(*, parsed: ServerMessage) -> dict[str, Any]:
    """The configured transfer number of the line the call is on, or a speakable refusal."""
    phone = phone_number_for(parsed.message)
    destination = phone.transfer_destination if phone is not None else ""
    if not destination:
        return {"error": NO_TRANSFER}
    return {
        "destination": {"type": "number", "number": str(destination), "message": TRANSFER_MESSAGE},
    }


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


def tool_calls_answer(*, parsed: ServerMessage, event_id: int | None) -> dict[str, Any]:
    from tools import dispatcher

    return dispatcher.tool_calls_answer(message=parsed.message, event_id=event_id)


def function_call_answer(*, parsed: ServerMessage, event_id: int | None) -> dict[str, Any]:
    """Legacy ``function-call``: the same tools, answered as ``{"result": "..."}``."""
    from tools import dispatcher

    return dispatcher.function_call_answer(message=parsed.message, event_id=event_id)
