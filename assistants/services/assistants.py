"""Creating, changing and deleting assistants through the API, with who did it in the history.

The serializer validates; these write. Pushing to Vapi stays a separate, explicit step
(``assistant_request_push``): an API edit is a new version that is not pushed yet.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from simple_history.utils import update_change_reason

from assistants.models import Assistant
from voiceops.writes import row_create, row_update


def assistant_create(*, data: dict[str, Any], change_reason: str = "") -> Assistant:
    with transaction.atomic():
        assistant = row_create(Assistant, data)
        if change_reason:
            update_change_reason(assistant, change_reason)
    return assistant


def assistant_update(*, assistant: Assistant, data: dict[str, Any], change_reason: str = "") -> Assistant:
    if change_reason:
        assistant._change_reason = change_reason  # type: ignore[attr-defined]  # read by the history row
    return row_update(assistant, data)


def assistant_delete(*, assistant: Assistant) -> None:
    """Refused (ProtectedError, PROTECT) while a campaign or a routing rule still uses the assistant."""
    assistant.delete()
