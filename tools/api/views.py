"""/api/v1/tools/, /api/v1/resources/ and /api/v1/appointments/."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from tools.api.filters import AppointmentFilter, ToolFilter
from tools.models import Appointment, Resource, Tool
from tools.selectors import appointment_list, resource_list, tool_list
from tools.serializers import (
    AppointmentBookSerializer,
    AppointmentRescheduleSerializer,
    AppointmentSerializer,
    ResourceSerializer,
    ToolSerializer,
)
from tools.services.appointments import appointment_book, appointment_cancel, appointment_reschedule
from tools.services.tools import tool_set_enabled
from voiceops.api.base import ApiReadOnlyViewSet
from voiceops.api.scopes import Scope


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
        return tool_list()

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
        return resource_list()


@extend_schema_view(
    list=extend_schema(summary="List appointments"),
    retrieve=extend_schema(summary="One appointment"),
)
class AppointmentViewSet(ApiReadOnlyViewSet):
    """Writes go through tools.services.appointments, the same code the voice tools use, so the
    database's exclusion constraint (no overlapping active bookings) is the one guarantee."""

    serializer_class = AppointmentSerializer
    filterset_class = AppointmentFilter
    ordering_fields = ["starts_at", "created_at"]
    write_scope = Scope.APPOINTMENTS_WRITE

    def get_queryset(self) -> QuerySet[Appointment]:
        return appointment_list()

    @extend_schema(
        summary="Book an appointment (409 slot_taken when the slot is gone)",
        request=AppointmentBookSerializer,
        responses={201: AppointmentSerializer},
    )
    def create(self, request: Request) -> Response:
        form = AppointmentBookSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        appointment = appointment_book(**form.validated_data)
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=AppointmentSerializer, summary="Cancel an appointment")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        appointment = appointment_cancel(appointment=self.get_object())
        return Response(AppointmentSerializer(appointment).data)

    @extend_schema(
        request=AppointmentRescheduleSerializer,
        responses={201: AppointmentSerializer},
        summary="Move an appointment; answers the new booking (the old one is marked rescheduled)",
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str | None = None) -> Response:
        appointment = self.get_object()
        form = AppointmentRescheduleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        moved = appointment_reschedule(appointment=appointment, starts_at=form.validated_data["starts_at"])
        return Response(AppointmentSerializer(moved).data, status=status.HTTP_201_CREATED)
