"""/api/v1/assistants/ and /api/v1/phone-numbers/."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from simple_history.utils import update_change_reason

from assistants.models import Assistant, PhoneNumber
from assistants.serializers import AssistantSerializer, PhoneNumberSerializer
from voiceops.api.base import ApiModelViewSet, ApiReadOnlyViewSet
from voiceops.api.filters import AssistantFilter, PhoneNumberFilter
from voiceops.api.scopes import Scope


@extend_schema_view(
    list=extend_schema(summary="List assistants"),
    retrieve=extend_schema(summary="One assistant, with its Vapi sync state"),
    create=extend_schema(summary="Create an assistant (not pushed to Vapi until you push it)"),
    partial_update=extend_schema(summary="Change an assistant"),
    destroy=extend_schema(summary="Delete an assistant that no campaign uses"),
)
class AssistantViewSet(ApiModelViewSet):
    serializer_class = AssistantSerializer
    filterset_class = AssistantFilter
    ordering_fields = ["name", "created_at", "updated_at"]
    write_scope = Scope.ASSISTANTS_WRITE

    def get_queryset(self) -> QuerySet[Assistant]:
        return Assistant.objects.prefetch_related("tools").order_by("name")

    def _reason(self) -> str:
        # Ops ask "who changed this prompt?": the history row names the API key.
        return f"API key {self.request.auth.name} ({self.request.auth.prefix})"[:100]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        assistant = serializer.save()
        update_change_reason(assistant, self._reason())

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance._change_reason = self._reason()
        serializer.save()


@extend_schema_view(
    list=extend_schema(summary="List phone numbers"),
    retrieve=extend_schema(summary="One phone number"),
)
class PhoneNumberViewSet(ApiReadOnlyViewSet):
    serializer_class = PhoneNumberSerializer
    filterset_class = PhoneNumberFilter
    ordering_fields = ["number", "created_at"]
    write_scope = Scope.ASSISTANTS_WRITE

    def get_queryset(self) -> QuerySet[PhoneNumber]:
        return PhoneNumber.objects.order_by("number")
