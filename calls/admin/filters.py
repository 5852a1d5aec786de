"""List filters whose choices never come from ``SELECT DISTINCT`` over a big table.

Django's default filter for a plain CharField lists the distinct values in the column,
a full scan of the events or invocations table on every changelist load.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

# The server-message types in Vapi's contract (CONTRACT §4); filtering by any other value
# still works through the URL (?message_type=...).
VAPI_MESSAGE_TYPES = (
    "status-update",
    "end-of-call-report",
    "tool-calls",
    "function-call",
    "transcript",
    "conversation-update",
    "speech-update",
    "hang",
    "user-interrupted",
    "assistant-request",
    "transfer-destination-request",
    "transfer-update",
    "model-output",
    "language-change-detected",
    "knowledge-base-request",
    "handoff-destination-request",
    "phone-call-control",
    "voice-input",
    "campaign.predial",
)


class MessageTypeFilter(admin.SimpleListFilter):
    title = "message type"
    parameter_name = "message_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, value) for value in VAPI_MESSAGE_TYPES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(message_type=value) if value else queryset
