"""assistant-request, answered in two round trips: one read, one write (issue 14).

Vapi holds an inbound call until we name its assistant, so this path is measured
(bench/assistant_request_bench.py, target: server p99 <= 50 ms under 32 connections). What
it costs, and why:

1. ONE SELECT (read.py): the called number, its enabled rules, the assistants they name, the
   closures around today and the caller's Customer row, as JSON aggregates.
2. Rule evaluation in Python (assistants/routing/rules.py, no query).
3. ONE statement (write.py) that writes everything, committed before we answer: the ledger row with
   its answer, the caller's Customer (and its history row) when new, the Call (inserted, or
   filled where empty and moved forward to ringing: the same rules as call_link and
   call_apply_status), its unlinked tool records, and the RoutingDecision (which rule, why).
   A single statement is atomic on its own, so there is no BEGIN, COMMIT or savepoint to pay
   for. Every write is conditional on the ledger row being new: a redelivery writes nothing
   and is answered from the ledger, identically.

Any failure is answered with a sentence Vapi can speak and the ledger row still stored
("answer_failed"); only a database that cannot store the row raises (the view answers it).
"""

from __future__ import annotations

from typing import Any

import structlog
from django.utils import timezone

from assistants.routing.rules import CallerFacts, Route, route_choose
from calls.enums import EventState
from calls.models import WebhookEvent
from calls.services.answers import NO_ASSISTANT, NUMBER_NOT_CONFIGURED
from calls.services.assistant_request.read import routing_read
from calls.services.assistant_request.write import routing_write
from calls.services.events import ledger_row, webhook_event_record
from calls.services.processors.calls import customer_name_of, customer_number_of
from voiceops.logging import mask_number
from voiceops.phones import number_to_e164
from voiceops.vapi.messages import ServerMessage

log = structlog.get_logger(__name__)


def _variables(customer: dict[str, Any] | None) -> dict[str, str]:
    variables: dict[str, str] = {"customerName": (customer or {}).get("name") or "there"}
    for key, field in (
        ("customerEmail", "email"),
        ("customerExternalId", "external_id"),
        ("customerTimeZone", "time_zone"),
    ):
        if customer and customer.get(field):
            variables[key] = customer[field]
    return variables


def _answer(route: Route, customer: dict[str, Any] | None) -> dict[str, Any]:
    if route.assistant is None:
        return {"error": route.message or NO_ASSISTANT}
    return {
        "assistantId": route.assistant.vapi_id,
        "assistantOverrides": {"variableValues": _variables(customer)},
    }


def _stored_answer(parsed: ServerMessage, body: bytes) -> dict[str, Any] | None:
    return (
        WebhookEvent.objects.filter(dedupe_key=parsed.dedupe_key(body))
        .values_list("response", flat=True)
        .first()
    )


def assistant_request_receive(
    *, parsed: ServerMessage, body: bytes, headers: dict[str, str]
) -> tuple[dict[str, Any], str]:
    """Choose the assistant by the number's rules, store everything, and return the answer with
    its outcome (answered, duplicate, answer_failed). Raises DatabaseError only when even the
    ledger row cannot be stored."""
    message = parsed.message
    number = customer_number_of(message)
    caller = number_to_e164(number, strict=True) if number else None
    now = timezone.now()
    try:
        found = routing_read(message=message, caller=caller, at=now)
        log.info(
            "webhook.assistant_request",
            caller=mask_number(number),
            phone_number_id=found.phone.pk if found else None,
        )
        if found is None:
            answer: dict[str, Any] = {"error": NUMBER_NOT_CONFIGURED}
            stored = webhook_event_record(
                parsed=parsed, body=body, headers=headers, state=EventState.PROCESSED, response=answer
            )
        else:
            customer = found.customer
            facts = CallerFacts(
                number=caller or "",
                known=bool(customer and (customer["name"] or customer["email"] or customer["external_id"])),
                vip=bool(customer and customer["vip"]),
            )
            route = route_choose(
                phone_number=found.phone, rules=found.rules, closures=found.closures, caller=facts, at=now
            )
            if route.assistant is not None and not route.assistant.vapi_id:
                reason = f"{route.reason}, but assistant {route.assistant.name!r} is not pushed"
                route = Route(None, route.rule, True, "", reason)
            if customer is None and caller:
                customer = {"name": customer_name_of(message)}  # created by the write, with this name
            answer = _answer(route, customer)
            ledger = ledger_row(
                parsed=parsed, body=body, headers=headers, state=EventState.PROCESSED, response=answer
            )
            stored = routing_write(
                parsed=parsed, ledger=ledger, found=found, caller=caller, route=route, now=now
            )
        outcome = "answered"
    except Exception:  # noqa: BLE001 - a caller is waiting: answer with a sentence, never a 500
        log.exception("webhook.answer_failed")
        answer, outcome = {"error": NO_ASSISTANT}, "answer_failed"
        stored = webhook_event_record(  # raises DatabaseError when the database cannot store it
            parsed=parsed, body=body, headers=headers, state=EventState.PROCESSED, response=answer
        )
    if stored is None:
        previous = _stored_answer(parsed, body)
        if previous is not None:
            log.info("webhook.duplicate", answered_from="ledger")
            return previous, "duplicate"
    return answer, outcome
