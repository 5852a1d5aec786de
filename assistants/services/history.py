"""Reverting an assistant to an earlier version from its django-simple-history records."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from assistants.models import Assistant
from assistants.validation import CONFIG_FIELDS
from voiceops.errors import DomainError, NotFound


def assistant_revert(*, assistant: Assistant, history_id: int, by: Any = None) -> Assistant:
    """Copy the config of version ``history_id`` back onto the assistant (a new version).

    Only config fields are restored, never the sync bookkeeping: the revert is an edit like
    any other, so it shows up as not pushed until someone pushes it (or push-on-save does).
    """
    record = assistant.history.filter(history_id=history_id).first()
    if record is None:
        raise NotFound(f"Version {history_id} of assistant {assistant.pk} does not exist.")
    with transaction.atomic():
        for name in CONFIG_FIELDS:
            setattr(assistant, name, getattr(record, name))
        try:
            assistant.full_clean(exclude=["tools"])
        except ValidationError as exc:
            raise DomainError(
                "That version cannot be restored as is.", code="invalid_config", fields=exc.message_dict
            )
        assistant._change_reason = f"Reverted to version {history_id}"  # type: ignore[attr-defined]
        if by is not None:
            assistant._history_user = by  # type: ignore[attr-defined]
        assistant.save()
        tool_ids = [row.tool_id for row in record.tools.all()]
        assistant.tools.set(tool_ids)
    return assistant
