"""Reads about calls: the API's call with its details; one call's transfers, live-control actions
and raw events."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from calls.enums import TurnRole
from calls.models import Call, CallControl, CallTransfer, TranscriptTurn, WebhookEvent
from tools.models import ToolInvocation

# The API's transcript is the spoken conversation (DESIGN: the call resource). The system
# prompt and tool bookkeeping rows stay in the admin; tool calls are ``tool_invocations``.
SPOKEN_ROLES = (TurnRole.USER, TurnRole.ASSISTANT)


def calls_with_details() -> QuerySet[Call]:
    """A fixed number of queries whatever the page size: calls (with their routing decision),
    their spoken turns, tool invocations, transfers and live-control actions."""
    spoken = TranscriptTurn.objects.filter(role__in=SPOKEN_ROLES).exclude(text="").order_by("position")
    return Call.objects.select_related("routing").prefetch_related(
        Prefetch("turns", queryset=spoken),
        Prefetch("tool_invocations", queryset=ToolInvocation.objects.order_by("created_at", "id")),
        "transfers",
        "controls",
    )


def call_events(*, call: Call, limit: int = 200) -> list[WebhookEvent]:
    """The raw events of one call, oldest first, bounded so a chatty call cannot stall the page."""
    if not call.vapi_id:
        return []
    return list(
        WebhookEvent.objects.filter(vapi_call_id=call.vapi_id)
        .order_by("received_at", "id")
        .only("id", "message_type", "state", "received_at", "attempts", "error", "vapi_call_id")[:limit]
    )


def call_transfers(*, call: Call) -> QuerySet[CallTransfer]:
    """Transfers of one call in the order they happened."""
    return CallTransfer.objects.filter(call=call).order_by("at", "id")


def call_controls(*, call: Call) -> list[CallControl]:
    """Live-control actions on one call, oldest first."""
    return list(CallControl.objects.filter(call=call).order_by("created_at", "id"))


def call_list() -> QuerySet[Call]:
    """Calls newest first, without details (the CSV export reads only the call row)."""
    return Call.objects.order_by("-created_at")
