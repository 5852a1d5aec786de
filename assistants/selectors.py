"""Reads for assistants and phone numbers: lists, versions and the difference between two versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from assistants.models import Assistant, PhoneNumber
from voiceops.errors import NotFound


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


def assistant_versions(*, assistant: Assistant) -> QuerySet:
    return assistant.history.select_related("history_user").order_by("-history_id")


def assistant_versions_diff(*, assistant: Assistant, from_id: int, to_id: int) -> list[FieldChange]:
    """Field-by-field difference from version ``from_id`` to version ``to_id`` (tools included)."""
    records = {r.history_id: r for r in assistant.history.filter(history_id__in=[from_id, to_id])}
    missing = [str(v) for v in (from_id, to_id) if v not in records]
    if missing:
        raise NotFound(f"Unknown version(s) {', '.join(missing)} of assistant {assistant.pk}.")
    if from_id == to_id:
        return []
    delta = records[to_id].diff_against(records[from_id])
    changes = []
    for change in delta.changes:
        old, new = change.old, change.new
        if change.field == "tools":
            old = sorted(str(row.get("tool")) for row in old or [])
            new = sorted(str(row.get("tool")) for row in new or [])
        changes.append(FieldChange(field=change.field, old=old, new=new))
    return sorted(changes, key=lambda c: c.field)


def assistant_list() -> QuerySet[Assistant]:
    return Assistant.objects.prefetch_related("tools").order_by("name")


def assistants_pushed() -> QuerySet[Assistant]:
    """Assistants Vapi knows (pushed at least once): the only ones a number can be bound to."""
    return Assistant.objects.exclude(vapi_id__isnull=True).exclude(vapi_id="")


def phone_number_list() -> QuerySet[PhoneNumber]:
    return PhoneNumber.objects.select_related("assistant").order_by("number")
