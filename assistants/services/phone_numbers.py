"""Phone numbers: import Vapi's list, set a number's mode (fixed or routed) and check Vapi's copy.

Vapi is the source of truth for which numbers exist and for what its copy does. A mode change
is written to Vapi first and stored locally only when Vapi accepted it; what Vapi answered is
recorded in the ``vapi_*`` fields, so a later change made in Vapi's dashboard shows as a
difference instead of being silently overwritten or trusted.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone

from assistants.models import Assistant, NumberMode, PhoneNumber, VapiRoute
from assistants.payload import server_block
from assistants.services.credentials import webhook_credential_ensure
from voiceops.errors import InvalidState
from voiceops.logging import mask_number
from voiceops.phones import number_to_e164
from voiceops.vapi.client import VapiNotFound, get_client

log = structlog.get_logger(__name__)

LIST_LIMIT = 1000
VAPI_FIELDS = ["vapi_mode", "vapi_assistant_id", "vapi_server_url", "vapi_checked_at"]


def vapi_route_of(item: dict[str, Any]) -> tuple[str, str, str]:
    """(route, assistant id, server URL) of a Vapi phone-number object.

    Vapi sends assistant-request only when no assistant, squad or workflow is bound and a
    server URL is set (on the number, or the org's default, which we cannot see and so do
    not count on)."""
    raw_server = item.get("server")
    server: dict[str, Any] = raw_server if isinstance(raw_server, dict) else {}
    server_url = str(server.get("url") or item.get("serverUrl") or "")[:2000]
    assistant_id = str(item.get("assistantId") or "")
    if assistant_id:
        return VapiRoute.FIXED, assistant_id, server_url
    if item.get("squadId") or item.get("workflowId"):
        return VapiRoute.OTHER, "", server_url
    if server_url:
        return VapiRoute.ROUTED, "", server_url
    return VapiRoute.UNSET, "", ""


def _vapi_values(item: dict[str, Any]) -> dict[str, Any]:
    route, assistant_id, server_url = vapi_route_of(item)
    return {
        "vapi_mode": route,
        "vapi_assistant_id": assistant_id,
        "vapi_server_url": server_url,
        "vapi_checked_at": timezone.now(),
    }


def _phone_number_upsert(item: dict[str, Any], assistants_by_vapi_id: dict[str, Assistant]) -> bool:
    vapi_id = str(item.get("id") or "")
    # Possible, not valid: Vapi owns and routes this number, our numbering plan may be older.
    number = number_to_e164(str(item.get("number")))
    if not vapi_id or not number:
        log.warning(
            "assistants.phone_import.skipped", vapi_id=vapi_id, number=mask_number(item.get("number"))
        )
        return False
    vapi = _vapi_values(item)
    existing = (
        PhoneNumber.objects.select_for_update().filter(vapi_id=vapi_id).first()
        or PhoneNumber.objects.select_for_update().filter(number=number).first()
    )
    values: dict[str, Any] = {
        "vapi_id": vapi_id,
        "number": number,
        "name": str(item.get("name") or "")[:100],
        "provider": str(item.get("provider") or "")[:30],
        **vapi,
    }
    if existing is None:
        # A new number starts with the mode Vapi has; an existing one keeps ours, and the
        # difference (if any) is shown rather than overwritten.
        assistant = assistants_by_vapi_id.get(vapi["vapi_assistant_id"])
        if vapi["vapi_assistant_id"] and assistant is None:
            log.info("assistants.phone_import.unknown_assistant", vapi_id=vapi_id)
        mode = NumberMode.ROUTED if vapi["vapi_mode"] == VapiRoute.ROUTED else NumberMode.FIXED
        PhoneNumber.objects.create(mode=mode, assistant=assistant, **values)
        return True
    for key, value in values.items():
        setattr(existing, key, value)
    existing.save()
    return True


def phone_numbers_import() -> int:
    """Upsert every phone number Vapi lists (``GET /phone-number``), keyed by Vapi id.

    Returns how many were imported or updated. Numbers without a usable E.164 number (SIP
    URIs) are skipped and logged.
    """
    items = get_client().phone_number_list(limit=LIST_LIMIT) or []
    assistants = {
        str(a.vapi_id): a for a in Assistant.objects.exclude(vapi_id__isnull=True).exclude(vapi_id="")
    }
    count = 0
    with transaction.atomic():
        for item in items:
            if isinstance(item, dict) and _phone_number_upsert(item, assistants):
                count += 1
    log.info("assistants.phone_import.done", listed=len(items), imported=count)
    return count


def phone_number_check(*, phone_number: PhoneNumber) -> PhoneNumber:
    """Drift check: read Vapi's copy (``GET /phone-number/{id}``) and record what it does."""
    if not phone_number.vapi_id:
        raise InvalidState("This number is not in Vapi yet: import phone numbers first.")
    try:
        item = get_client().phone_number_get(phone_number.vapi_id)
    except VapiNotFound:
        values: dict[str, Any] = {
            "vapi_mode": VapiRoute.MISSING,
            "vapi_assistant_id": "",
            "vapi_server_url": "",
            "vapi_checked_at": timezone.now(),
        }
    else:
        values = _vapi_values(item if isinstance(item, dict) else {})
    PhoneNumber.objects.filter(pk=phone_number.pk).update(**values)
    phone_number.refresh_from_db()
    return phone_number


def phone_numbers_check() -> int:
    """Drift check for every number with a Vapi id; returns how many differ from what we want."""
    differ = 0
    for phone_number in PhoneNumber.objects.exclude(vapi_id__isnull=True).select_related("assistant"):
        try:
            if phone_number_check(phone_number=phone_number).vapi_differs:
                differ += 1
        except InvalidState:
            continue
    return differ


def phone_number_set_mode(
    *, phone_number: PhoneNumber, mode: str, assistant: Assistant | None
) -> PhoneNumber:
    """Make the number fixed (bound to ``assistant`` in Vapi) or routed (no assistant in Vapi,
    our server URL set; ``assistant`` is then the default when no rule matches).

    Vapi is PATCHed first; our row changes only when Vapi accepted it.
    """
    if mode not in NumberMode.values:
        raise InvalidState(f"Unknown mode {mode!r}: use fixed or routed.")
    if not phone_number.vapi_id:
        raise InvalidState("This number is not in Vapi yet: import phone numbers first.")
    if mode == NumberMode.FIXED:
        if assistant is None:
            raise InvalidState("A fixed number needs the assistant it is bound to.")
        if not assistant.vapi_id:
            raise InvalidState(
                f"Assistant {assistant.name!r} has not been pushed to Vapi yet: push it first."
            )
        body: dict[str, Any] = {"assistantId": assistant.vapi_id, "squadId": None, "workflowId": None}
    else:
        body = {
            "assistantId": None,
            "squadId": None,
            "workflowId": None,
            "server": server_block(credential_id=webhook_credential_ensure()),
        }
    answer = get_client().phone_number_update(phone_number.vapi_id, body)
    vapi = _vapi_values(answer if isinstance(answer, dict) else {})
    with transaction.atomic():
        PhoneNumber.objects.filter(pk=phone_number.pk).update(mode=mode, assistant=assistant, **vapi)
    phone_number.refresh_from_db()
    log.info(
        "assistants.phone_number.mode_set",
        phone_number=mask_number(phone_number.number),
        mode=mode,
        assistant_id=assistant.pk if assistant else None,
        vapi_mode=phone_number.vapi_mode,
    )
    return phone_number


def phone_number_bind(*, phone_number: PhoneNumber, assistant: Assistant | None) -> PhoneNumber:
    """Shorthand kept for callers of the old API: an assistant makes it fixed, None routed."""
    mode = NumberMode.FIXED if assistant is not None else NumberMode.ROUTED
    return phone_number_set_mode(phone_number=phone_number, mode=mode, assistant=assistant)


def phone_number_update(*, phone_number: PhoneNumber, data: dict[str, Any]) -> PhoneNumber:
    """Local settings only (name, time zone, opening hours, transfer number); the mode changes
    through ``phone_number_set_mode`` because it writes to Vapi first."""
    for name, value in data.items():
        setattr(phone_number, name, value)
    phone_number.save()
    return phone_number
