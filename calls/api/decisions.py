"""/api/v1/dispatch-decisions/: why each number was dialled or not, as a list and a CSV export."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request

from calls.exports import csv_response, decision_export_rows
from calls.models import DispatchDecision
from calls.serializers import DispatchDecisionSerializer
from voiceops.api.base import ApiViewSet
from voiceops.api.filters import DispatchDecisionFilter


@extend_schema_view(list=extend_schema(summary="Dispatch decisions, newest first"))
class DispatchDecisionViewSet(mixins.ListModelMixin, ApiViewSet):
    serializer_class = DispatchDecisionSerializer
    filterset_class = DispatchDecisionFilter
    ordering_fields = ["at", "id"]

    def get_queryset(self) -> QuerySet[DispatchDecision]:
        return DispatchDecision.objects.order_by("-at", "-id")

    @extend_schema(
        summary="Export dispatch decisions as CSV (the list's filters apply; every matching row)",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request: Request) -> StreamingHttpResponse:
        rows = decision_export_rows(self.filter_queryset(self.get_queryset()))
        return csv_response(rows, name="dispatch-decisions")
