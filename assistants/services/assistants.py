"""Creating, changing and deleting assistants through the API, with who did it in the history.

The serializer validates; these write. Pushing to Vapi stays a separate, explicit step
(``assistant_request_push``): an API edit is a new version that is not pushed yet.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from simple_history.utils import update_change_reason

from assistants.models import Assistant


def assistant_create(*, data: dict[str, Any], change_reason: str = "") -> Assistant:
    data = dict(data)
    tools = data.pop("tools", None)
    with transaction.atomic():
        assistant = Assistant.objects.create(**data)
        if tools is not None:
            assistant.tools.set(tools)
        if change_reason:
            update_change_reason(assistant, change_reason)
    return assistant


def assistant_update(*, assistant: Assistant, data: dict[str, Any], change_reason: str = "") -> Assistant:
    data = dict(data)
    tools = data.pop("tools", None)
    with transaction.atomic():
        for name, value in data.items():
            setattr(assistant, name, value)
        if change_reason:
            assistant._change_reason = change_reason  # type: ignore[attr-defined]
        assistant.save()
        if tools is not None:
            assistant.tools.set(tools)
    return assistant


def assistant_delete(*, assistant: Assistant) -> None:
    """Refused (ProtectedError, PROTECT) while a campaign or a routing rule still uses the assistant."""
    assistant.delete()
