"""Live call control on the call page: end, say, transfer (ops managers: add_callcontrol)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from calls.models import Call
from calls.models.control import ControlAction, ControlState
from calls.selectors.calls import call_controls
from calls.services.control import LIVE, call_control_send, call_listen_url
from voiceops.errors import DomainError
from voiceops.vapi.client import VapiError

PERMISSION = "calls.add_callcontrol"


def live_control_context(*, request: HttpRequest, call: Call) -> dict[str, Any]:
    """What the call page's live-control panel shows: the actions so far, and the form if allowed."""
    return {
        "live_control": {
            "can_act": call.status in LIVE and request.user.has_perm(PERMISSION),
            "live": call.status in LIVE,
            "listen_url": call_listen_url(call=call),
            "actions": call_controls(call=call),
            "url": reverse("admin:calls_call_control", args=[call.pk]),
        }
    }


class LiveControlAdminMixin:
    """Adds ``<call>/control/`` to the call admin (POST only)."""

    def get_urls(self) -> list:
        extra = [
            path(
                "<path:object_id>/control/",
                self.admin_site.admin_view(self.control_view),  # type: ignore[attr-defined]
                name="calls_call_control",
            )
        ]
        return extra + super().get_urls()  # type: ignore[misc]

    def control_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied
        call = get_object_or_404(Call, pk=object_id)
        action = request.POST.get("action", "")
        page = reverse("admin:calls_call_change", args=[call.pk]) + "#live-control"
        try:
            control = call_control_send(
                call=call,
                action=action,
                content=request.POST.get("content", ""),
                destination=request.POST.get("destination", ""),
                user=request.user,
                by=request.user.get_username(),
            )
        except (DomainError, VapiError) as exc:
            fields = getattr(exc, "fields", {}) or {}
            detail = "; ".join(" ".join(v) for v in fields.values())
            messages.error(request, f"Not sent: {getattr(exc, 'message', str(exc))} {detail}".strip())
            return HttpResponseRedirect(page)
        label = ControlAction(control.action).label
        if control.state == ControlState.SENT:
            messages.success(request, f"{label}: sent to the live call.")
        else:
            messages.error(request, f"{label}: Vapi did not take it ({control.error}).")
        return HttpResponseRedirect(page)
