"""/api/v1/calls/: list with filters, detail with transcript and tool invocations."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from calls.api.control import CallControlActions
from calls.api.filters import CallFilter
from calls.campaigns.services.outbound import call_place_outbound
from calls.exports import call_export_rows, csv_response
from calls.models import Call
from calls.selectors.calls import call_list, calls_with_details
from calls.serializers import CallCreateSerializer, CallSerializer
from voiceops.api.base import ApiViewSet
from voiceops.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent, service_idempotency_key
from voiceops.api.pagination import CreatedCursorPagination
from voiceops.api.scopes import Scope


@extend_schema_view(
    list=extend_schema(summary="List calls, newest first (cursor-paginated)"),
    retrieve=extend_schema(summary="One call with its transcript and tool invocations"),
)
class CallViewSet(CallControlActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = CallSerializer
    filterset_class = CallFilter
    pagination_class = CreatedCursorPagination
    ordering_fields = ["created_at"]
    write_scope = Scope.CALLS_WRITE

    def get_queryset(self) -> QuerySet[Call]:
        if self.action == "export":
            return call_list()
        return calls_with_details()

    @extend_schema(
        summary="Export calls as CSV (the list's filters apply; every matching row, no pages)",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request: Request) -> StreamingHttpResponse:
        return csv_response(call_export_rows(self.filter_queryset(self.get_queryset())), name="calls")

    @extend_schema(
        summary="Place an outbound call now",
        request=CallCreateSerializer,
        responses={201: CallSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def create(self, request: Request) -> Response:
        form = CallCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        call = call_place_outbound(
            assistant=data["assistant"],
            customer_number=str(data["customer_number"]),
            phone_number=data["phone_number"],
            variables=data["variables"],
            customer_name=data["customer_name"],
            idempotency_key=service_idempotency_key(request=request),
        )
        return Response(
            CallSerializer(calls_with_details().get(pk=call.pk)).data, status=status.HTTP_201_CREATED
        )
