"""/api/v1/assistants/ and /api/v1/phone-numbers/."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from assistants.api.filters import AssistantFilter, PhoneNumberFilter
from assistants.models import Assistant, PhoneNumber
from assistants.selectors import assistant_list, phone_number_list
from assistants.serializers import (
    AssistantSerializer,
    PhoneNumberBindSerializer,
    PhoneNumberModeSerializer,
    PhoneNumberSerializer,
)
from assistants.services import assistant_request_push, phone_number_bind
from assistants.services.assistants import assistant_create, assistant_delete, assistant_update
from assistants.services.phone_numbers import (
    phone_number_check,
    phone_number_set_mode,
    phone_number_update,
)
from voiceops.api.base import ApiModelViewSet, ApiReadOnlyViewSet
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
        return assistant_list()

    def _reason(self) -> str:
        # Ops ask "who changed this prompt?": the history row names the API key.
        return f"API key {self.api_key.name} ({self.api_key.prefix})"[:100]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = assistant_create(data=serializer.validated_data, change_reason=self._reason())

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        assert isinstance(serializer.instance, Assistant)
        serializer.instance = assistant_update(
            assistant=serializer.instance, data=serializer.validated_data, change_reason=self._reason()
        )

    def perform_destroy(self, instance: Assistant) -> None:
        assistant_delete(assistant=instance)

    @extend_schema(
        request=None,
        responses={202: AssistantSerializer},
        summary="Push the assistant to Vapi (queued; push_state turns pending, then in-sync or failed)",
    )
    @action(detail=True, methods=["post"])
    def push(self, request: Request, pk: str | None = None) -> Response:
        assistant = self.get_object()
        assistant_request_push(assistant=assistant)
        return Response(AssistantSerializer(self.get_queryset().get(pk=assistant.pk)).data, status=202)


@extend_schema_view(
    list=extend_schema(summary="List phone numbers (mode wanted, mode Vapi has, and how they differ)"),
    retrieve=extend_schema(summary="One phone number"),
    partial_update=extend_schema(summary="Change name, time zone, opening hours or transfer number"),
)
class PhoneNumberViewSet(mixins.UpdateModelMixin, ApiReadOnlyViewSet):
    serializer_class = PhoneNumberSerializer
    filterset_class = PhoneNumberFilter
    ordering_fields = ["number", "created_at"]
    write_scope = Scope.ASSISTANTS_WRITE
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[PhoneNumber]:
        return phone_number_list()

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        assert isinstance(serializer.instance, PhoneNumber)
        serializer.instance = phone_number_update(
            phone_number=serializer.instance, data=serializer.validated_data
        )

    @extend_schema(
        request=PhoneNumberModeSerializer,
        responses=PhoneNumberSerializer,
        summary="Set the mode: fixed (bound to an assistant in Vapi) or routed (voiceops picks per call)",
    )
    @action(detail=True, methods=["post"])
    def mode(self, request: Request, pk: str | None = None) -> Response:
        phone_number = self.get_object()
        form = PhoneNumberModeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        phone_number = phone_number_set_mode(
            phone_number=phone_number,
            mode=form.validated_data["mode"],
            assistant=form.validated_data.get("assistant"),
        )
        return Response(PhoneNumberSerializer(phone_number).data)

    @extend_schema(
        request=None,
        responses=PhoneNumberSerializer,
        summary="Drift check: read Vapi's copy of the number and record the mode it really has",
    )
    @action(detail=True, methods=["post"])
    def check(self, request: Request, pk: str | None = None) -> Response:
        phone_number = phone_number_check(phone_number=self.get_object())
        return Response(PhoneNumberSerializer(phone_number).data)

    @extend_schema(
        request=PhoneNumberBindSerializer,
        responses=PhoneNumberSerializer,
        summary="Shorthand: an assistant makes the number fixed, null makes it routed (see mode/)",
    )
    @action(detail=True, methods=["post"])
    def bind(self, request: Request, pk: str | None = None) -> Response:
        phone_number = self.get_object()
        form = PhoneNumberBindSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        phone_number = phone_number_bind(
            phone_number=phone_number, assistant=form.validated_data["assistant"]
        )
        return Response(PhoneNumberSerializer(phone_number).data)
