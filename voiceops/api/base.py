"""Base classes every API view uses: key auth, scope check, throttle, schema, pagination."""

from __future__ import annotations

from typing import ClassVar

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import BasePagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer

from voiceops.api.auth import ApiKeyAuthentication, HasScope
from voiceops.api.models import ApiKey
from voiceops.api.pagination import DefaultPagination
from voiceops.api.schema import ApiAutoSchema
from voiceops.api.scopes import Scope
from voiceops.api.throttling import ApiKeyRateThrottle


class ApiViewSet(viewsets.GenericViewSet):
    """``write_scope`` covers unsafe methods; ``action_scopes`` overrides per action."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [ApiKeyRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    pagination_class: type[BasePagination] | None = DefaultPagination
    schema = ApiAutoSchema()
    write_scope: ClassVar[str] = Scope.ADMIN
    action_scopes: ClassVar[dict[str, str]] = {}

    @property
    def api_key(self) -> ApiKey:
        """The authenticated key (HasScope guarantees one before any action runs)."""
        key = self.request.auth
        assert isinstance(key, ApiKey)
        return key


class ApiModelViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    ApiViewSet,
):
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


class ApiReadOnlyViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, ApiViewSet):
    pass
