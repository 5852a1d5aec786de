"""/api/v1/routing-rules/ and /api/v1/closures/: a routed number's rules and its closed days."""

from __future__ import annotations

from typing import Any

import django_filters as df
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from assistants.models import Closure, RoutingRule, RuleAction
from assistants.routing.rules import caller_numbers_errors
from assistants.routing.selectors import closure_list, routing_rule_list
from assistants.routing.services import (
    closure_create,
    closure_delete,
    closure_update,
    routing_rule_create,
    routing_rule_delete,
    routing_rule_update,
)
from voiceops.api.base import ApiModelViewSet
from voiceops.api.scopes import Scope


class RoutingRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoutingRule
        fields = [
            "id",
            "phone_number",
            "position",
            "name",
            "enabled",
            "when",
            "caller",
            "caller_numbers",
            "action",
            "assistant",
            "refusal_message",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_caller_numbers(self, value: Any) -> Any:
        errors = caller_numbers_errors(value)
        if errors:
            raise serializers.ValidationError(errors)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = self.instance
        action = attrs.get("action", getattr(instance, "action", RuleAction.ASSISTANT))
        assistant = attrs.get("assistant", getattr(instance, "assistant", None))
        if action == RuleAction.ASSISTANT and assistant is None:
            raise serializers.ValidationError(
                {"assistant": "A rule that answers with an assistant needs the assistant."}
            )
        return attrs


class ClosureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Closure
        fields = ["id", "phone_number", "starts_on", "ends_on", "name"]
        read_only_fields = ["id"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        starts = attrs.get("starts_on", getattr(self.instance, "starts_on", None))
        ends = attrs.get("ends_on", getattr(self.instance, "ends_on", None))
        if starts and ends and ends < starts:
            raise serializers.ValidationError({"ends_on": "A closure ends on or after the day it starts."})
        return attrs


class PhoneNumberChildFilter(df.FilterSet):
    phone_number = df.NumberFilter(field_name="phone_number_id")


class RoutingRuleFilter(PhoneNumberChildFilter):
    class Meta:
        model = RoutingRule
        fields: list[str] = []


class ClosureFilter(PhoneNumberChildFilter):
    class Meta:
        model = Closure
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Routing rules (filter ?phone_number=); first enabled match by position wins"),
    retrieve=extend_schema(summary="One routing rule"),
    create=extend_schema(summary="Add a routing rule to a routed number"),
    partial_update=extend_schema(summary="Change a routing rule"),
    destroy=extend_schema(summary="Delete a routing rule"),
)
class RoutingRuleViewSet(ApiModelViewSet):
    serializer_class = RoutingRuleSerializer
    filterset_class = RoutingRuleFilter
    ordering_fields = ["position", "id"]
    write_scope = Scope.ASSISTANTS_WRITE

    def get_queryset(self) -> QuerySet[RoutingRule]:
        return routing_rule_list()

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = routing_rule_create(data=serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        assert isinstance(serializer.instance, RoutingRule)
        serializer.instance = routing_rule_update(rule=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance: RoutingRule) -> None:
        routing_rule_delete(rule=instance)


@extend_schema_view(
    list=extend_schema(summary="Closures (holidays) of numbers (filter ?phone_number=)"),
    retrieve=extend_schema(summary="One closure"),
    create=extend_schema(summary="Close a number for a day or a range of days"),
    partial_update=extend_schema(summary="Change a closure"),
    destroy=extend_schema(summary="Delete a closure"),
)
class ClosureViewSet(ApiModelViewSet):
    serializer_class = ClosureSerializer
    filterset_class = ClosureFilter
    ordering_fields = ["starts_on", "id"]
    write_scope = Scope.ASSISTANTS_WRITE

    def get_queryset(self) -> QuerySet[Closure]:
        return closure_list()

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = closure_create(data=serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        assert isinstance(serializer.instance, Closure)
        serializer.instance = closure_update(closure=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance: Closure) -> None:
        closure_delete(closure=instance)
