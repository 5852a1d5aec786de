"""/api/v1/webhook-events/: the webhook ledger, read-only (replay for admin keys)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view

from calls.models import WebhookEvent
from calls.serializers import WebhookEventSerializer
from voiceops.api.base import ApiReadOnlyViewSet
from voiceops.api.filters import WebhookEventFilter
from voiceops.api.pagination import ReceivedCursorPagination
from voiceops.api.scopes import Scope


@extend_schema_view(
    list=extend_schema(summary="List received webhook events, newest first (cursor-paginated)"),
    retrieve=extend_schema(summary="One webhook event with its raw body"),
)
class WebhookEventViewSet(ApiReadOnlyViewSet):
    serializer_class = WebhookEventSerializer
    filterset_class = WebhookEventFilter
    pagination_class = ReceivedCursorPagination
    ordering_fields = ["received_at"]
    write_scope = Scope.ADMIN

    def get_queryset(self) -> QuerySet[WebhookEvent]:
        return WebhookEvent.objects.all()
