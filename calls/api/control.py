"""``POST /api/v1/calls/{id}/control/``: end, say or transfer on a live call (scope calls:write)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from calls.models import CallControl
from calls.models.control import ControlAction, ControlState
from calls.services.control import call_control_send
from voiceops.api.errors import error_body


class CallControlRequestSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ControlAction.choices)
    content = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="say: the sentence; transfer: said first.",
    )
    destination = serializers.CharField(
        required=False, allow_blank=True, max_length=300, help_text="transfer: +E.164 number or sip: URI."
    )


class CallControlSerializer(serializers.ModelSerializer):
    class Meta:
        model = CallControl
        fields = ["id", "action", "content", "destination", "by", "state", "error", "created_at"]
        read_only_fields = fields


class CallControlActions:
    """Mixed into CallViewSet."""

    @extend_schema(
        request=CallControlRequestSerializer,
        responses={200: CallControlSerializer, 502: None},
        summary="Live call control through Vapi's controlUrl: end-call, say, transfer (recorded with who)",
    )
    @action(detail=True, methods=["post"])
    def control(self, request: Request, pk: str | None = None) -> Response:
        call = self.get_object()  # type: ignore[attr-defined]
        form = CallControlRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        key = self.api_key  # type: ignore[attr-defined]
        control = call_control_send(
            call=call,
            action=form.validated_data["action"],
            content=form.validated_data.get("content", ""),
            destination=form.validated_data.get("destination", ""),
            by=f"API key {key.name} ({key.prefix})",
        )
        data = CallControlSerializer(control).data
        if control.state == ControlState.FAILED:
            body = error_body(code="vapi_unavailable", message=f"Vapi did not take it: {control.error}")
            return Response({**body, "control": data}, status=status.HTTP_502_BAD_GATEWAY)
        return Response(data)
