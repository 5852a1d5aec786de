"""/api/v1/calls/: list with filters, detail with transcript and tool invocations."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from calls.models import Call, TranscriptTurn
from calls.serializers import CallSerializer
from tools.models import ToolInvocation
from voiceops.api.base import ApiViewSet
from voiceops.api.filters import CallFilter
from voiceops.api.pagination import CreatedCursorPagination
from voiceops.api.scopes import Scope


def calls_with_details() -> QuerySet[Call]:
    """Three queries whatever the page size: calls, their turns, their tool invocations."""
    return Call.objects.prefetch_related(
        Prefetch("turns", queryset=TranscriptTurn.objects.order_by("position")),
        Prefetch("tool_invocations", queryset=ToolInvocation.objects.order_by("created_at", "id")),
    )


@extend_schema_view(
    list=extend_schema(summary="List calls, newest first (cursor-paginated)"),
    retrieve=extend_schema(summary="One call with its transcript and tool invocations"),
)
class CallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = CallSerializer
    filterset_class = CallFilter
    pagination_class = CreatedCursorPagination
    ordering_fields = ["created_at"]
    write_scope = Scope.CALLS_WRITE

    def get_queryset(self) -> QuerySet[Call]:
        return calls_with_details()
