"""Phone numbers: import Vapi's list into ours, and route a number (fixed assistant or ask us).

Vapi is the source of truth for which numbers exist; routing is set here and written to
Vapi first, then stored locally only when Vapi accepted it, so the two never disagree
because of a failed request.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
import structlog
from django.db import transaction

from assistants.models import Assistant, PhoneNumber
from assistants.payload import server_block
from assistants.services.credentials import webhook_credential_ensure
from voiceops.errors import InvalidState
from voiceops.logging import mask_number
from voiceops.vapi.client import get_client

log = structlog.get_logger(__name__)

LIST_LIMIT = 1000


def _e164(raw: Any) -> str | None:
    try:
        parsed = phonenumbers.parse(str(raw), None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _phone_number_upsert(item: dict[str, Any], assistants_by_vapi_id: dict[str, Assistant]) -> bool:
    vapi_id = str(item.get("id") or "")
    number = _e164(item.get("number"))
    if not vapi_id or not number:
        log.warning(
            "assistants.phone_import.skipped", vapi_id=vapi_id, number=mask_number(item.get("number"))
        )
        return False
    assistant_vapi_id = item.get("assistantId")
    routed = bool(assistant_vapi_id or item.get("squadId") or item.get("workflowId"))
    values = {
        "number": number,
        "name": str(item.get("name") or "")[:100],
        "provider": str(item.get("provider") or "")[:30],
        "assistant": assistants_by_vapi_id.get(str(assistant_vapi_id)) if assistant_vapi_id else None,
        "ask_server": not routed,
    }
    if assistant_vapi_id and values["assistant"] is None:
        log.info(
            "assistants.phone_import.unknown_assistant", vapi_id=vapi_id, assistant_vapi_id=assistant_vapi_id
        )
    existing = (
        PhoneNumber.objects.select_for_update().filter(vapi_id=vapi_id).first()
        or PhoneNumber.objects.select_for_update().filter(number=number).first()
    )
    if existing is None:
        PhoneNumber.objects.create(vapi_id=vapi_id, **values)
        return True
    existing.vapi_id = vapi_id
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


def phone_number_bind(*, phone_number: PhoneNumber, assistant: Assistant | None) -> PhoneNumber:
    """Route inbound calls on this number to ``assistant``, or (None) to our server through
    ``assistant-request``. Vapi is updated first; our row changes only when Vapi accepted it."""
    if not phone_number.vapi_id:
        raise InvalidState("This number is not in Vapi yet: import phone numbers first.")
    if assistant is not None:
        if not assistant.vapi_id:
            raise InvalidState(
                f"Assistant {assistant.name!r} has not been pushed to Vapi yet: push it first."
            )
        body: dict[str, Any] = {"assistantId": assistant.vapi_id}
    else:
        body = {"assistantId": None, "server": server_block(credential_id=webhook_credential_ensure())}
    get_client().phone_number_update(phone_number.vapi_id, body)
    with transaction.atomic():
        PhoneNumber.objects.filter(pk=phone_number.pk).update(
            assistant=assistant, ask_server=assistant is None
        )
    phone_number.refresh_from_db()
    log.info(
        "assistants.phone_number.bound",
        phone_number=mask_number(phone_number.number),
        assistant_id=assistant.pk if assistant else None,
        ask_server=assistant is None,
    )
    return phone_number
