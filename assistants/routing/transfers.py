"""Transfers to a person: the ``transferCall`` tool we push, and the answer to
transfer-destination-request (department asked, opening hours of the called number)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from assistants.models import PhoneNumber, TransferDestination, TransferKind
from assistants.routing.hours import open_state
from assistants.routing.selectors import closures_on

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SIP = re.compile(r"^sips?:[^@\s]+@[^\s]+$")
JSON = dict[str, Any]


def transfer_destination_errors(*, kind: str, number: str, sip_uri: str) -> dict[str, str]:
    if kind == TransferKind.NUMBER and not E164.match(number or ""):
        return {"number": "A phone number in E.164 form, e.g. +14155550123."}
    if kind == TransferKind.SIP and not SIP.match(sip_uri or ""):
        return {"sip_uri": "A SIP URI such as sip:desk@example.com."}
    return {}


def destination_body(destination: TransferDestination) -> JSON:
    """Vapi's TransferDestinationNumber / TransferDestinationSip."""
    body: JSON = (
        {"type": "number", "number": destination.number}
        if destination.kind == TransferKind.NUMBER
        else {"type": "sip", "sipUri": destination.sip_uri}
    )
    if destination.message:
        body["message"] = destination.message
    description = destination.description or (
        f"The {destination.department} team" if destination.department else ""
    )
    if description:
        body["description"] = description
    return body


def transfer_tool(destinations: list[TransferDestination]) -> JSON | None:
    """The ``transferCall`` tool for the assistant payload; None when it has no destinations.

    Conditions (department, opening hours) can only be applied by us, so then the tool goes out
    without destinations and Vapi asks us (transfer-destination-request) on every transfer."""
    if not destinations:
        return None
    if any(d.has_condition for d in destinations):
        departments = sorted({d.department for d in destinations if d.department})
        tool: JSON = {"type": "transferCall", "destinations": []}
        if departments:
            tool["function"] = {
                "name": "transferCall",
                "description": "Transfer the caller to a person. Say which team they asked for: "
                + ", ".join(departments)
                + ".",
            }
        return tool
    return {"type": "transferCall", "destinations": [destination_body(d) for d in destinations]}


def _asked_text(message: JSON) -> str:
    """What the caller said lately (the last user turns), lower-cased, for department matching."""
    raw = message.get("artifact")
    artifact: JSON = raw if isinstance(raw, dict) else {}
    turns = [m for m in (artifact.get("messages") or []) if isinstance(m, dict) and m.get("role") == "user"]
    return " ".join(str(m.get("message") or "") for m in turns[-3:]).lower()


def transfer_destination_choose(
    *,
    destinations: list[TransferDestination],
    phone_number: PhoneNumber | None,
    message: JSON,
    at: dt.datetime,
) -> tuple[TransferDestination | None, str]:
    """The destination for this transfer and why; (None, why) when none may take it now."""
    if not destinations:
        return None, "the assistant has no transfer destinations"
    state = None
    if phone_number is not None and any(d.open_hours_only for d in destinations):
        state = open_state(
            hours=phone_number.opening_hours,
            time_zone=phone_number.time_zone,
            closures=closures_on(phone_number=phone_number, at=at),
            at=at,
        )
    asked = _asked_text(message)
    wanted = [d for d in destinations if d.department and d.department.lower() in asked]
    candidates = wanted or [d for d in destinations if not d.department] or destinations
    for destination in candidates:
        if destination.open_hours_only and state is not None and not state.open:
            continue
        why = [f"department {destination.department!r} asked" if destination in wanted else "first available"]
        if destination.open_hours_only and state is not None:
            why.append(state.why)
        return destination, "; ".join(why)
    return None, state.why if state is not None else "no destination is available"
