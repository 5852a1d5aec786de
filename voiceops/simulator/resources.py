"""The REST endpoints: Vapi's paths, bodies and answers (CONTRACT §7), backed by the Store.

Each handler takes the simulator, the path id (if any), the query and the parsed body,
and returns ``(status, json)`` or raises :class:`ApiError`. Routing lives in http.py.
"""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING, Any

from voiceops.simulator import validation as v
from voiceops.simulator.store import parse_iso, uuid7

if TYPE_CHECKING:
    from voiceops.simulator.runner import Simulator

JSON = dict[str, Any]
Result = tuple[int, Any]
LIST_FILTERS = {
    "createdAtGt": ("createdAt", "gt"),
    "createdAtLt": ("createdAt", "lt"),
    "createdAtGe": ("createdAt", "ge"),
    "createdAtLe": ("createdAt", "le"),
    "updatedAtGt": ("updatedAt", "gt"),
    "updatedAtLt": ("updatedAt", "lt"),
    "updatedAtGe": ("updatedAt", "ge"),
    "updatedAtLe": ("updatedAt", "le"),
}
NAMES = {
    "assistants": "Assistant",
    "calls": "Call",
    "phone_numbers": "Phone Number",
    "credentials": "Credential",
    "tools": "Tool",
}


def filtered(items: list[JSON], query: dict[str, str], *, exact: tuple[str, ...] = ()) -> list[JSON]:
    """Vapi's list query: exact-match fields, createdAt/updatedAt bounds, ``limit`` (default 100,
    0 to 1000), newest first (``items`` come sorted). Other query keys are refused, as Vapi's
    validation refuses properties it does not define (CONTRACT §13), so a misspelt bound
    fails here instead of silently listing everything."""
    errors: list[str] = [
        f"property {key} should not exist" for key in query if key not in ("limit", *LIST_FILTERS, *exact)
    ]
    limit = 100
    if "limit" in query:
        try:
            limit = int(float(query["limit"]))
            if not 0 <= limit <= 1000:
                raise ValueError
        except ValueError:
            errors.append("limit must not be greater than 1000 and must be a number")
    bounds = []
    for key, (field, op) in LIST_FILTERS.items():
        if key in query:
            moment = parse_iso(query[key])
            if moment is None:
                errors.append(f"{key} must be a valid ISO 8601 date string")
            else:
                bounds.append((field, op, moment))
    if errors:
        raise v.bad_request(errors)
    out = []
    for item in items:
        if any(key in query and str(item.get(key)) != query[key] for key in exact):
            continue
        keep = True
        for field, op, moment in bounds:
            value = parse_iso(item.get(field))
            if (
                value is None
                or not {
                    "gt": value > moment,
                    "lt": value < moment,
                    "ge": value >= moment,
                    "le": value <= moment,
                }[op]
            ):
                keep = False
                break
        if keep:
            out.append(item)
    return out[:limit]


def fetch(sim: Simulator, kind: str, object_id: str) -> JSON:
    v.require_uuid(object_id)
    obj = sim.store.get(kind, object_id)
    if obj is None:
        raise v.not_found(f"{NAMES[kind]} not found")
    return obj


# --- assistants -------------------------------------------------------------------------------
def assistant_create(sim: Simulator, body: Any) -> Result:
    body = v.check_object(body)
    errors = v.assistant_errors(body, partial=False)
    if errors:
        raise v.bad_request(errors)
    return 201, sim.store.add("assistants", body)


def assistant_update(sim: Simulator, object_id: str, body: Any) -> Result:
    fetch(sim, "assistants", object_id)
    body = v.check_object(body)
    errors = v.assistant_errors(body, partial=True)
    if errors:
        raise v.bad_request(errors)
    return 200, sim.store.update("assistants", object_id, body)


# --- tools and credentials --------------------------------------------------------------------
def tool_create(sim: Simulator, body: Any) -> Result:
    body = v.check_object(body)
    errors = v.tool_errors(body, partial=False)
    if errors:
        raise v.bad_request(errors)
    return 201, sim.store.add("tools", body)


def tool_update(sim: Simulator, object_id: str, body: Any) -> Result:
    fetch(sim, "tools", object_id)
    body = v.check_object(body)
    errors = v.tool_errors(body, partial=True)
    if errors:
        raise v.bad_request(errors)
    return 200, sim.store.update("tools", object_id, body)


def credential_create(sim: Simulator, body: Any) -> Result:
    body = v.check_object(body)
    errors = v.credential_errors(body, partial=False)
    if errors:
        raise v.bad_request(errors)
    return 201, sim.store.add("credentials", body)


def credential_update(sim: Simulator, object_id: str, body: Any) -> Result:
    fetch(sim, "credentials", object_id)
    body = v.check_object(body)
    errors = v.credential_errors(body, partial=True)
    if errors:
        raise v.bad_request(errors)
    return 200, sim.store.update("credentials", object_id, body)


# --- phone numbers ----------------------------------------------------------------------------
def phone_number_create(sim: Simulator, body: Any) -> Result:
    """Buy/import a number. Minimal: provider + E.164 number (the rest is kept as given)."""
    body = v.check_object(body)
    number = body.get("number")
    errors = []
    if not isinstance(number, str) or not v.E164.match(number):
        errors.append("number must be a valid phone number in the E.164 format.")
    errors += v.server_errors(body.get("server"))
    if errors:
        raise v.bad_request(errors)
    if sim.store.phone_number_by_number(number):
        raise v.bad_request(f"Phone number {number} already exists in this org.")
    return 201, sim.store.add("phone_numbers", {"provider": "vapi", "status": "active", **body})


def phone_number_update(sim: Simulator, object_id: str, body: Any) -> Result:
    current = fetch(sim, "phone_numbers", object_id)
    body = v.check_object(body)
    errors = v.unknown_properties(body, v.PHONE_NUMBER_UPDATE_FIELDS) + v.server_errors(body.get("server"))
    if body.get("provider") not in (None, current.get("provider")):
        errors.append("provider cannot be changed")
    if errors:
        raise v.bad_request(errors)
    assistant_id = body.get("assistantId")
    if assistant_id:
        v.require_uuid(str(assistant_id))
        if sim.store.get("assistants", str(assistant_id)) is None:
            raise v.bad_request("Couldn't Get Assistant. `assistantId` Does Not Exist.")
    return 200, sim.store.update("phone_numbers", object_id, body)


# --- calls --------------------------------------------------------------------------------------
def call_create(sim: Simulator, body: Any) -> Result:
    body = v.check_object(body)
    errors: list[str] = []
    if "customer" in body:
        errors += v.customer_errors(body["customer"], "customer.")
    if "schedulePlan" in body:
        errors += v.schedule_plan_errors(body["schedulePlan"])
    if "name" in body and (not isinstance(body["name"], str) or len(body["name"]) > 40):
        errors.append("name must be shorter than or equal to 40 characters")
    for key in ("assistantOverrides", "assistant"):
        if key in body and not isinstance(body[key], dict):
            errors.append(f"{key} must be an object")
    if isinstance(body.get("assistant"), dict):
        errors += [f"assistant.{e}" for e in v.assistant_errors(body["assistant"], partial=False)]
    errors += v.unknown_properties(body, v.CALL_FIELDS)
    customers = body.get("customers")
    if customers is not None and (not isinstance(customers, list) or not customers):
        errors.append("customers must contain at least 1 elements")
    if errors:
        raise v.bad_request(errors)
    if not any(
        body.get(k) for k in ("assistantId", "assistant", "squadId", "squad", "workflowId", "workflow")
    ):
        raise v.bad_request(
            "Couldn't Get Assistant. Need Either `assistant`, `assistantId`, `squad`, `squadId`, "
            "`workflow`, or `workflowId`."
        )
    if body.get("assistantId"):
        if not _is_uuid(body["assistantId"]) or sim.store.get("assistants", str(body["assistantId"])) is None:
            raise v.bad_request("Couldn't Get Assistant. `assistantId` Does Not Exist.")
    phone = None
    if body.get("phoneNumberId"):
        phone = (
            sim.store.get("phone_numbers", str(body["phoneNumberId"]))
            if _is_uuid(body["phoneNumberId"])
            else None
        )
        if phone is None:
            raise v.bad_request("Couldn't Get Phone Number. `phoneNumberId` Does Not Exist.")
    elif isinstance(body.get("phoneNumber"), dict):
        phone = body["phoneNumber"]
    else:
        raise v.bad_request("Need Either `phoneNumberId` Or `phoneNumber`.")
    if customers is not None and body.get("customer"):
        raise v.bad_request("Need Either `customer` Or `customers`, Not Both.")
    if customers is None and not body.get("customer"):
        if body.get("customerId"):
            raise v.bad_request("Couldn't Get Customer. `customerId` Does Not Exist.")
        raise v.bad_request("Need Either `customerId`, `customer`, Or `customers`.")
    wait = sim.rate_limited()
    if wait is not None:
        raise v.ApiError(429, "Too Many Requests", headers={"Retry-After": str(max(1, round(wait + 0.5)))})
    if customers is None:
        call, blocked = _new_call(sim, body, body["customer"], phone)
        return 201, {**call, "subscriptionLimits": sim.subscription_limits(blocked=blocked)}
    results, failures = [], []
    any_blocked = False
    for index, customer in enumerate(customers):
        problems = v.customer_errors(customer, f"customers.{index}.")
        if problems:
            failures.append({"customer": customer, "error": "; ".join(problems)})
            continue
        created, blocked = _new_call(sim, body, customer, phone)
        any_blocked = any_blocked or blocked
        results.append(created)
    limits = sim.subscription_limits(blocked=any_blocked)
    return 201, {"subscriptionLimits": limits, "results": results, "errors": failures}


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _new_call(sim: Simulator, body: JSON, customer: JSON, phone: JSON) -> tuple[JSON, bool]:
    call_id = uuid7()
    provider = phone.get("provider") if phone.get("provider") in ("twilio", "vonage", "telnyx") else "vapi"
    provider_id = f"CA{secrets.token_hex(16)}" if provider in ("twilio", "vapi") else str(uuid.uuid4())
    call: JSON = {"type": "outboundPhoneCall"}
    for key in (
        "assistantId",
        "assistant",
        "assistantOverrides",
        "assistantVersion",
        "squadId",
        "workflowId",
    ):
        if key in body:
            call[key] = body[key]
    if body.get("phoneNumberId"):
        call["phoneNumberId"] = body["phoneNumberId"]
    else:
        call["phoneNumber"] = phone
    call.update(
        {
            "customer": customer,
            "status": "scheduled" if body.get("schedulePlan") else "queued",
            "phoneCallProvider": provider,
            "phoneCallProviderId": provider_id,
            "phoneCallTransport": "pstn",
        }
    )
    if body.get("name"):
        call["name"] = body["name"]
    if body.get("schedulePlan"):
        call["schedulePlan"] = body["schedulePlan"]
    call.update(
        {
            "cost": 0,
            "monitor": sim.monitor_urls(call_id),
            "transport": {
                "provider": provider if provider != "vapi" else "twilio",
                "conversationType": "voice",
            },
        }
    )
    created, blocked = sim.admit(lambda: sim.store.add("calls", call, object_id=call_id))
    sim.start_call(call_id)
    return created, blocked


def call_update(sim: Simulator, object_id: str, body: Any) -> Result:
    fetch(sim, "calls", object_id)
    body = v.check_object(body)
    errors = v.unknown_properties(body, v.CALL_UPDATE_FIELDS)
    if "name" in body and (not isinstance(body["name"], str) or len(body["name"]) > 40):
        errors.append("name must be shorter than or equal to 40 characters")
    if errors:
        raise v.bad_request(errors)
    return 200, sim.store.update("calls", object_id, body)


def call_delete(sim: Simulator, object_id: str) -> Result:
    call = fetch(sim, "calls", object_id)
    sim.cancel_call(object_id)
    sim.store.delete("calls", object_id)
    return 200, call
