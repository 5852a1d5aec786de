"""/api/v1/webhook-events/: the webhook ledger, read-only (replay for admin keys)."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from calls.api.filters import WebhookEventFilter
from calls.models import WebhookEvent
from calls.serializers import WebhookEventSerializer
from calls.services.events import webhook_event_replay
from voiceops.api.base import ApiReadOnlyViewSet
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

    @extend_schema(
        request=None,
        responses=WebhookEventSerializer,
        summary="Process the event again from its stored body (admin scope)",
    )
    @action(detail=True, methods=["post"])
    def replay(self, request: Request, pk: str | None = None) -> Response:
        event = self.get_object()
        webhook_event_replay(event=event)
        event.refresh_from_db()
        return Response(WebhookEventSerializer(event).data)
