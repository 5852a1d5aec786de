"""The webhook ledger in the admin: read-only, with a replay action for ops staff."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from calls.admin.filters import MessageTypeFilter
from calls.models import WebhookEvent
from calls.services.events import webhook_event_replay
from voiceops.console.changelist import FastChangelistMixin
from voiceops.console.readonly import ReadOnlyAdmin
from voiceops.console.redaction import pretty_json

REPLAY_PERMISSION = "calls.change_webhookevent"


def event_replay(*, event: WebhookEvent) -> None:
    """Re-process one stored event through the webhook area's service (idempotent processing)."""
    webhook_event_replay(event=event)


def can_replay(request: HttpRequest) -> bool:
    """Replaying changes state downstream, so it needs the change permission on events (managers)."""
    return request.user.has_perm(REPLAY_PERMISSION)


@admin.register(WebhookEvent)
class WebhookEventAdmin(FastChangelistMixin, ReadOnlyAdmin):
    class Media:
        css = {"all": ("calls/admin/ops.css",)}

    list_display = ("id", "received_at", "message_type", "call_link", "state", "attempts", "processed_at")
    list_filter = ("state", MessageTypeFilter, "received_at")
    search_fields = ("=vapi_call_id", "=dedupe_key", "=id")
    date_hierarchy = "received_at"
    ordering = ("-received_at",)
    list_defer = ("body", "headers", "response", "traceback", "error")
    actions = ("replay_selected",)
    fields = (
        "message_type",
        "vapi_call_id",
        "call_link",
        "state",
        "attempts",
        "received_at",
        "message_timestamp",
        "processed_at",
        "dedupe_key",
        "error",
        "traceback_display",
        "headers_display",
        "body_display",
        "response_display",
    )
    readonly_fields = fields

    @admin.display(description="Call", ordering="vapi_call_id")
    def call_link(self, obj: WebhookEvent) -> str:
        if not obj.vapi_call_id:
            return "-"
        url = reverse("admin:calls_call_changelist") + f"?vapi_id={obj.vapi_call_id}"
        return format_html('<a href="{}">{}</a>', url, obj.vapi_call_id)

    @admin.display(description="Headers")
    def headers_display(self, obj: WebhookEvent) -> str:
        return pretty_json(obj.headers)

    @admin.display(description="Body (secrets masked)")
    def body_display(self, obj: WebhookEvent) -> str:
        return pretty_json(obj.body)

    @admin.display(description="Our answer")
    def response_display(self, obj: WebhookEvent) -> str:
        return pretty_json(obj.response) if obj.response is not None else "-"

    @admin.display(description="Traceback")
    def traceback_display(self, obj: WebhookEvent) -> str:
        return format_html('<pre class="vo-json">{}</pre>', obj.traceback) if obj.traceback else "-"

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not can_replay(request):
            actions.pop("replay_selected", None)
        return actions

    @admin.action(description="Replay selected events")
    def replay_selected(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        if not can_replay(request):
            raise PermissionDenied
        done = 0
        for event in queryset[:500]:
            event_replay(event=event)
            done += 1
        self.message_user(request, f"Replayed {done} event(s).", messages.SUCCESS)

    def get_urls(self) -> list[Any]:
        urls = super().get_urls()
        custom = [
            path(
                "<int:event_id>/replay/",
                self.admin_site.admin_view(self.replay_view),
                name="calls_webhookevent_replay",
            )
        ]
        return custom + urls

    def replay_view(self, request: HttpRequest, event_id: int) -> HttpResponse:
        """POST-only: replay one event, then go back where the button was (the call page)."""
        if request.method != "POST":
            return HttpResponse("Replay needs a POST.", status=405, headers={"Allow": "POST"})
        if not can_replay(request):
            raise PermissionDenied
        event = get_object_or_404(WebhookEvent, pk=event_id)
        event_replay(event=event)
        event.refresh_from_db()
        self.message_user(
            request, f"Replayed event {event.pk} ({event.message_type}): now {event.state}.", messages.SUCCESS
        )
        target = request.POST.get("next") or reverse("admin:calls_webhookevent_change", args=[event.pk])
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:calls_webhookevent_change", args=[event.pk])
        return HttpResponseRedirect(target)
