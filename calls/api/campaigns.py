"""/api/v1/campaigns/: CRUD and recipients list."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from calls.models import Campaign, CampaignRecipient
from calls.serializers import CampaignSerializer, RecipientSerializer
from voiceops.api.base import ApiModelViewSet, ApiViewSet
from voiceops.api.filters import CampaignFilter, RecipientFilter
from voiceops.api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from voiceops.api.scopes import Scope
from voiceops.api.services import campaign_delete


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

    def perform_destroy(self, instance: Campaign) -> None:
        campaign_delete(campaign=instance)


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
