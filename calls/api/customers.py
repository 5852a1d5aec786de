"""/api/v1/customers/: CRUD and the do-not-call switch."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from calls.api.filters import CustomerFilter
from calls.models import Customer
from calls.serializers import CustomerSerializer, DoNotCallSerializer
from calls.services.customers import (
    customer_create,
    customer_delete,
    customer_do_not_call_set,
    customer_update,
)
from voiceops.api.base import ApiModelViewSet
from voiceops.api.scopes import Scope


@extend_schema_view(
    list=extend_schema(summary="List customers"),
    retrieve=extend_schema(summary="One customer"),
    create=extend_schema(summary="Create a customer"),
    partial_update=extend_schema(summary="Change a customer"),
    destroy=extend_schema(summary="Delete a customer with no appointments or campaign entries"),
)
class CustomerViewSet(ApiModelViewSet):
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    ordering_fields = ["created_at", "name"]
    write_scope = Scope.CUSTOMERS_WRITE

    def get_queryset(self) -> QuerySet[Customer]:
        return Customer.objects.order_by("-created_at", "-id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = customer_create(data=serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        assert isinstance(serializer.instance, Customer)
        serializer.instance = customer_update(customer=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance: Customer) -> None:
        customer_delete(customer=instance)

    @extend_schema(
        request=DoNotCallSerializer,
        responses={200: CustomerSerializer},
        summary="Put the customer on (or take them off) the do-not-call list",
    )
    @action(detail=True, methods=["post"], url_path="do-not-call")
    def do_not_call(self, request: Request, pk: str | None = None) -> Response:
        customer = self.get_object()
        form = DoNotCallSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        customer = customer_do_not_call_set(
            customer=customer,
            do_not_call=form.validated_data["do_not_call"],
            reason=form.validated_data["reason"],
        )
        return Response(CustomerSerializer(customer).data, status=status.HTTP_200_OK)
