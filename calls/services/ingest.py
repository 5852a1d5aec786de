"""Receiving one authenticated, well-formed server message: store, then answer or enqueue.

Informational messages: one ledger row, committed before the answer (by default in the
process's group commit, and the INSERT wakes the ledger worker with NOTIFY; with celery
dispatch, a publish after commit); nothing else on the request path. Request/response
messages: the ledger row, the answer and the stored answer in one transaction, so a
duplicate delivery (which waits on the unique key until the first commits) is answered
from ``WebhookEvent.response``, identically.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

import structlog
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction

from calls.campaigns.services.predial import campaign_predial_answer
from calls.enums import EventState
from calls.models import WebhookEvent
from calls.services import answers
from calls.services.assistant_request import assistant_request_receive
from calls.services.events import (
    webhook_event_answered,
    webhook_event_count,
    webhook_event_enqueue,
    webhook_event_record,
)
from calls.services.processors import has_processor
from calls.services.processors.calls import json_safe
from voiceops.sqlbatch import Pending
from voiceops.vapi import messages as types
from voiceops.vapi.messages import ServerMessage

log = structlog.get_logger(__name__)

EMPTY: dict[str, Any] = {}


class Receipt(NamedTuple):
    """What to answer, and what happened (a metrics label: stored, duplicate, ignored, counted, answered)."""

    answer: dict[str, Any]
    outcome: str


_ANSWERS: dict[str, Callable[..., dict[str, Any]]] = {
    types.TRANSFER_DESTINATION_REQUEST: lambda parsed, event_id: answers.transfer_destination_answer(
        parsed=parsed
    ),
    types.KNOWLEDGE_BASE_REQUEST: lambda parsed, event_id: answers.knowledge_base_answer(parsed=parsed),
    types.HANDOFF_DESTINATION_REQUEST: lambda parsed, event_id: answers.handoff_destination_answer(
        parsed=parsed
    ),
    types.CAMPAIGN_PREDIAL: lambda parsed, event_id: campaign_predial_answer(message=parsed.message),
}

# The tool dispatcher (tools.execution) opens the savepoints it needs within its own
# statements and catches what fails there: wrapping it in one more savepoint would only add
# two round trips to the path a caller waits on. Its last statements (the recorded answer)
# come back as ``tail`` and travel with the stored answer.
_TOOL_ANSWERS: dict[str, Callable[..., dict[str, Any]]] = {
    types.TOOL_CALLS: lambda parsed, event_id, tail: answers.tool_calls_answer(
        parsed=parsed, event_id=event_id, tail=tail
    ),
    types.FUNCTION_CALL: lambda parsed, event_id, tail: answers.function_call_answer(
        parsed=parsed, event_id=event_id, tail=tail
    ),
}


def fallback_answer(*, parsed: ServerMessage) -> dict[str, Any]:
    """A valid, speakable answer when we cannot compute the real one."""
    if parsed.type == types.TOOL_CALLS:
        return answers.tool_calls_fallback(parsed=parsed)
    if parsed.type == types.FUNCTION_CALL:
        return {"result": answers.TOOL_UNAVAILABLE}
    if parsed.type == types.KNOWLEDGE_BASE_REQUEST:
        return {"documents": []}
    if parsed.type == types.TRANSFER_DESTINATION_REQUEST:
        return {"error": answers.NO_TRANSFER}
    if parsed.type == types.HANDOFF_DESTINATION_REQUEST:
        return answers.handoff_destination_answer(parsed=parsed)
    if parsed.type == types.CAMPAIGN_PREDIAL:
        return {"eligible": False}  # when in doubt, do not dial
    return {"error": answers.NO_ASSISTANT}


def _is_high_volume(parsed: ServerMessage) -> bool:
    return parsed.volume_type in settings.VAPI_WEBHOOK_HIGH_VOLUME_TYPES


def webhook_receive(*, parsed: ServerMessage, body: bytes, headers: dict[str, str]) -> Receipt:
    """Store ``parsed`` and return what to answer. Raises DatabaseError if storing fails."""
    if parsed.type == types.ASSISTANT_REQUEST:  # its own two-round-trip path (measured)
        return Receipt(*assistant_request_receive(parsed=parsed, body=body, headers=headers))
    if parsed.is_request_response:
        return _answer_checking_the_connection(parsed=parsed, body=body, headers=headers)
    if _is_high_volume(parsed):
        if settings.VAPI_WEBHOOK_HIGH_VOLUME_MODE == "count":
            webhook_event_count(message_type=parsed.volume_type)
            return Receipt(EMPTY, "counted")
        stored = webhook_event_record(parsed=parsed, body=body, headers=headers, state=EventState.IGNORED)
        return Receipt(EMPTY, "ignored" if stored is not None else "duplicate")
    if not has_processor(parsed.type) or not parsed.call_id:
        # Vapi keeps adding types: keep the body for later, answer 200, never fail.
        log.info("webhook.ignored", reason="unknown_type" if not has_processor(parsed.type) else "no_call_id")
        stored = webhook_event_record(parsed=parsed, body=body, headers=headers, state=EventState.IGNORED)
        return Receipt(EMPTY, "ignored" if stored is not None else "duplicate")
    event_id = webhook_event_record(parsed=parsed, body=body, headers=headers)
    if event_id is None:
        log.info("webhook.duplicate")
        return Receipt(EMPTY, "duplicate")
    webhook_event_enqueue(event_id=event_id)
    return Receipt(EMPTY, "stored")


def _answer_checking_the_connection(
    *, parsed: ServerMessage, body: bytes, headers: dict[str, str]
) -> Receipt:
    """Answer without Django's per-request health check, retrying once on a lost connection.

    ``CONN_HEALTH_CHECKS`` costs a ``SELECT 1`` round trip per request, on the path a caller
    waits on; here the first statement is the check instead. A persistent connection that
    died since the last request (Postgres restarted) fails it; nothing was committed then,
    so the connection is replaced and the message answered again (a commit whose
    acknowledgement was lost makes the second attempt a duplicate: answered the same).
    """
    reused = connection.connection
    connection.health_check_done = True  # type: ignore[attr-defined]  # a real attribute the stubs lack
    try:
        return _answer_in_request(parsed=parsed, body=body, headers=headers)
    except (OperationalError, InterfaceError):
        # Django's rollback of the failed block has already closed a broken connection (and
        # opened a new one); anything else is a real failure, for the caller to answer.
        if reused is None or connection.in_atomic_block:
            raise
        if connection.connection is reused and connection.is_usable():
            raise
        log.info("webhook.connection_replaced")
        return _answer_in_request(parsed=parsed, body=body, headers=headers)


def _answer_in_request(*, parsed: ServerMessage, body: bytes, headers: dict[str, str]) -> Receipt:
    tail: list[Pending] = []
    with transaction.atomic():
        # Stored as processed at once: it commits only with its answer, so nobody sees it
        # otherwise, and the UPDATE that adds the answer then changes no indexed column
        # (a HOT update: no index entries written twice).
        event_id = webhook_event_record(
            parsed=parsed, body=body, headers=headers, state=EventState.PROCESSED, wake_worker=False
        )
        if event_id is None:
            stored = (
                WebhookEvent.objects.filter(dedupe_key=parsed.dedupe_key(body))
                .values_list("id", "response")
                .first()
            )
            if stored is not None and stored[1] is not None:
                log.info("webhook.duplicate", answered_from="ledger")
                return Receipt(stored[1], "duplicate")
            event_id = stored[0] if stored else None
        try:
            if parsed.type in _TOOL_ANSWERS:
                answer = _TOOL_ANSWERS[parsed.type](parsed, event_id, tail)
            else:
                with transaction.atomic():
                    answer = _ANSWERS[parsed.type](parsed, event_id)
            if not isinstance(answer, dict):
                raise TypeError(f"answer is a {type(answer).__name__}, not an object")
            answer = json_safe(answer)
            json.dumps(answer)  # the view must be able to send it
        except Exception:  # noqa: BLE001 - a caller is waiting: answer with a sentence, never a 500
            log.exception("webhook.answer_failed")
            answer = fallback_answer(parsed=parsed)
            outcome = "answer_failed"
        else:
            outcome = "answered"
        webhook_event_answered(event_id=event_id, answer=answer, before=tail)
        return Receipt(answer, outcome)
