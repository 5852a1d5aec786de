"""/api/v1/campaigns/ (CRUD, control, progress, recipients with upload and export) and
/api/v1/dispatch-decisions/ (why each number was dialled or not, as a list and a CSV export)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from calls.campaigns.filters import CampaignFilter, DispatchDecisionFilter, RecipientFilter
from calls.campaigns.selectors import campaign_progress
from calls.campaigns.serializers import (
    CampaignSerializer,
    DispatchDecisionSerializer,
    ImportReportSerializer,
    RecipientSerializer,
    RecipientUploadFileSerializer,
    RecipientUploadSerializer,
)
from calls.campaigns.services.control import (
    campaign_cancel,
    campaign_create,
    campaign_delete,
    campaign_pause,
    campaign_resume,
    campaign_start,
    campaign_update,
)
from calls.campaigns.services.recipients import recipients_import
from calls.exports import csv_response, decision_export_rows, recipient_export_rows
from calls.models import Campaign, CampaignRecipient, DispatchDecision
from voiceops.api.base import ApiModelViewSet, ApiViewSet
from voiceops.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from voiceops.api.parsers import CsvTextParser
from voiceops.api.scopes import Scope


@extend_schema_view(
    list=extend_schema(summary="List campaigns"),
    retrieve=extend_schema(summary="One campaign"),
    create=extend_schema(summary="Create a campaign (draft)", parameters=[IDEMPOTENCY_PARAMETER]),
    partial_update=extend_schema(summary="Change a campaign"),
    destroy=extend_schema(summary="Delete a draft, completed or cancelled campaign"),
)
class CampaignViewSet(ApiModelViewSet):
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    ordering_fields = ["created_at", "name"]
    write_scope = Scope.CAMPAIGNS_WRITE

    def get_queryset(self) -> QuerySet[Campaign]:
        return Campaign.objects.prefetch_related("phone_numbers").order_by("-created_at", "-id")

    @idempotent
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = campaign_create(data=serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        assert isinstance(serializer.instance, Campaign)
        serializer.instance = campaign_update(campaign=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance: Campaign) -> None:
        campaign_delete(campaign=instance)

    def _control(self, service: Callable[..., Campaign]) -> Response:
        campaign = service(campaign=self.get_object(), by=f"api:{self.api_key.name}")
        return Response(CampaignSerializer(self.get_queryset().get(pk=campaign.pk)).data)

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses=CampaignSerializer,
        summary="Start dialing (draft or scheduled)",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._control(campaign_start)

    @extend_schema(
        request=None, responses=CampaignSerializer, summary="Pause: no new calls; live calls finish"
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        return self._control(campaign_pause)

    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses=CampaignSerializer,
        summary="Resume a paused campaign",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return self._control(campaign_resume)

    @extend_schema(request=None, responses=CampaignSerializer, summary="Cancel: no further calls, ever")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._control(campaign_cancel)

    @extend_schema(
        responses=OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="Counts per recipient state, attempts, pickup rate, outcome mix, cost so far, ETA.",
        ),
        summary="Progress of a campaign",
    )
    @action(detail=True, methods=["get"])
    def progress(self, request: Request, pk: str | None = None) -> Response:
        return Response(campaign_progress(campaign=self.get_object()))


@extend_schema_view(
    list=extend_schema(
        summary="A campaign's recipients and where each one is",
        parameters=[OpenApiParameter("campaign_pk", int, OpenApiParameter.PATH, description="Campaign id.")],
    )
)
class CampaignRecipientViewSet(mixins.ListModelMixin, ApiViewSet):
    serializer_class = RecipientSerializer
    filterset_class = RecipientFilter
    ordering_fields = ["id", "created_at"]
    write_scope = Scope.CAMPAIGNS_WRITE

    def get_campaign(self) -> Campaign:
        return get_object_or_404(Campaign.objects.all(), pk=self.kwargs["campaign_pk"])

    def get_queryset(self) -> QuerySet[CampaignRecipient]:
        if getattr(self, "swagger_fake_view", False):
            return CampaignRecipient.objects.none()
        return CampaignRecipient.objects.filter(campaign=self.get_campaign()).order_by("id")

    @extend_schema(
        summary="Export the campaign's recipients with their outcomes as CSV (list filters apply)",
        parameters=[OpenApiParameter("campaign_pk", int, OpenApiParameter.PATH, description="Campaign id.")],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request: Request, campaign_pk: str | None = None) -> StreamingHttpResponse:
        rows = recipient_export_rows(self.filter_queryset(self.get_queryset()))
        return csv_response(rows, name=f"campaign-{self.get_campaign().pk}-recipients")

    @extend_schema(
        summary="Upload recipients as CSV, with a row-by-row validation report",
        description=(
            'Send JSON `{"csv": "...", "dry_run": true}`, a multipart `file`, or a raw `text/csv` body '
            "(then `?dry_run=true`). Accepted rows are added (unless dry_run) even when others are rejected; "
            "the report lists every rejected row with its reason."
        ),
        request={
            "application/json": RecipientUploadSerializer,
            "multipart/form-data": RecipientUploadFileSerializer,
            "text/csv": OpenApiTypes.STR,
        },
        parameters=[
            OpenApiParameter("campaign_pk", int, OpenApiParameter.PATH, description="Campaign id."),
            OpenApiParameter("dry_run", bool, OpenApiParameter.QUERY, description="For text/csv bodies."),
        ],
        responses={200: ImportReportSerializer, 201: ImportReportSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        parser_classes=[JSONParser, MultiPartParser, CsvTextParser],
        filter_backends=[],
        pagination_class=None,
    )
    def upload(self, request: Request, campaign_pk: str | None = None) -> Response:
        campaign = self.get_campaign()
        csv_text, dry_run = _upload_input(request)
        report = recipients_import(campaign=campaign, csv_text=csv_text, dry_run=dry_run)
        code = status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED
        return Response(ImportReportSerializer(report.as_dict()).data, status=code)


def _upload_input(request: Request) -> tuple[str, bool]:
    """(csv text, dry_run) from whichever of the three encodings the client chose."""
    if isinstance(request.data, str):  # text/csv
        form = RecipientUploadSerializer(
            data={"csv": request.data, "dry_run": request.query_params.get("dry_run", False)}
        )
        form.is_valid(raise_exception=True)
        return form.validated_data["csv"], form.validated_data["dry_run"]
    if "file" in request.data:
        file_form = RecipientUploadFileSerializer(data=request.data)
        file_form.is_valid(raise_exception=True)
        raw = file_form.validated_data["file"].read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError({"file": ["The file is not UTF-8 text."]})
        return text, file_form.validated_data["dry_run"]
    form = RecipientUploadSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    return form.validated_data["csv"], form.validated_data["dry_run"]


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
