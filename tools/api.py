"""/api/v1/tools/, /api/v1/resources/ and /api/v1/appointments/."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from tools.models import Appointment, Resource, Tool
from tools.serializers import AppointmentSerializer, ResourceSerializer, ToolSerializer
from voiceops.api.base import ApiReadOnlyViewSet
from voiceops.api.filters import AppointmentFilter, ToolFilter
from voiceops.api.scopes import Scope
from voiceops.api.services import tool_set_enabled


@extend_schema_view(
    list=extend_schema(summary="List tools the assistants may call"),
    retrieve=extend_schema(summary="One tool"),
)
class ToolViewSet(ApiReadOnlyViewSet):
    serializer_class = ToolSerializer
    filterset_class = ToolFilter
    ordering_fields = ["name"]
    write_scope = Scope.ASSISTANTS_WRITE

    def get_queryset(self) -> QuerySet[Tool]:
        return Tool.objects.order_by("name")

    @extend_schema(request=None, responses=ToolSerializer, summary="Enable a tool for every assistant")
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, pk: str | None = None) -> Response:
        return Response(ToolSerializer(tool_set_enabled(tool=self.get_object(), enabled=True)).data)

    @extend_schema(request=None, responses=ToolSerializer, summary="Disable a tool for every assistant")
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, pk: str | None = None) -> Response:
        return Response(ToolSerializer(tool_set_enabled(tool=self.get_object(), enabled=False)).data)


@extend_schema_view(
    list=extend_schema(summary="List bookable resources (people, rooms)"),
    retrieve=extend_schema(summary="One bookable resource"),
)
class ResourceViewSet(ApiReadOnlyViewSet):
    serializer_class = ResourceSerializer
    ordering_fields = ["name"]

    def get_queryset(self) -> QuerySet[Resource]:
        return Resource.objects.order_by("name")


@extend_schema_view(
    list=extend_schema(summary="List appointments"),
    retrieve=extend_schema(summary="One appointment"),
)
class AppointmentViewSet(ApiReadOnlyViewSet):
    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilter
    ordering_fields = ["starts_at", "created_at"]
    write_scope = Scope.APPOINTMENTS_WRITE

    def get_queryset(self) -> QuerySet[Appointment]:
        return Appointment.objects.order_by("starts_at", "id")
