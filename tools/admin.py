"""Tools, their invocation ledger, bookable resources and appointments in the ops console."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

from tools.models import Appointment, Resource, Tool, ToolInvocation
from tools.selectors import tool_names
from tools.services.appointments import resource_lock
from voiceops.console.changelist import FastChangelistMixin
from voiceops.console.readonly import ReadOnlyAdmin
from voiceops.console.redaction import mask_known_secrets, pretty_json


class ToolNameFilter(admin.SimpleListFilter):
    """Choices from the (small) tool registry table rather than from the invocation ledger."""

    title = "tool"
    parameter_name = "name"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(name, name) for name in tool_names(limit=200)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(name=value) if value else queryset


@admin.register(Tool)
class ToolAdmin(SimpleHistoryAdmin):
    list_display = ("name", "enabled", "timeout_seconds", "updated_at")
    list_editable = ("enabled",)
    list_filter = ("enabled",)
    search_fields = ("name", "description")
    readonly_fields = ("created_at", "updated_at")


@admin.register(ToolInvocation)
class ToolInvocationAdmin(FastChangelistMixin, ReadOnlyAdmin):
    class Media:
        css = {"all": ("calls/admin/ops.css",)}

    list_display = ("created_at", "name", "state", "outcome", "latency_ms", "call", "tool_call_id")
    list_select_related = ("call",)
    list_defer = ("arguments", "result", "error", "call__vapi_call", "call__transcript_text")
    list_filter = ("state", "outcome", ToolNameFilter, "created_at")
    search_fields = ("=tool_call_id", "=vapi_call_id", "name")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    fields = (
        "tool_call_id",
        "name",
        "state",
        "outcome",
        "call",
        "vapi_call_id",
        "follows",
        "latency_ms",
        "created_at",
        "completed_at",
        "deferred_at",
        "delivered_at",
        "arguments_display",
        "result_display",
        "error_display",
    )
    readonly_fields = fields

    @admin.display(description="Arguments")
    def arguments_display(self, obj: ToolInvocation) -> str:
        return pretty_json(obj.arguments)

    @admin.display(description="Result")
    def result_display(self, obj: ToolInvocation) -> str:
        return mask_known_secrets(obj.result) or "-"

    @admin.display(description="Error")
    def error_display(self, obj: ToolInvocation) -> str:
        return mask_known_secrets(obj.error) or "-"


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "time_zone", "slot_minutes", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    readonly_fields = ("created_at",)


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Model constraints (no overlap per resource, end after start) surface as form errors on save."""

    list_display = ("starts_at", "ends_at", "resource", "customer", "status", "confirmation_code", "call")
    list_select_related = ("resource", "customer", "call")
    list_filter = ("status", "resource", "starts_at")
    search_fields = ("=confirmation_code", "=vapi_call_id", "customer__number", "customer__name")
    date_hierarchy = "starts_at"
    raw_id_fields = ("customer", "call", "rescheduled_from")
    readonly_fields = ("created_at", "updated_at")

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """A booking that races another one past the form check hits the exclusion constraint: say so."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError:
            self.message_user(
                request, "That slot was just taken by another booking; nothing was saved.", messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request: HttpRequest, obj: Appointment, form: Any, change: bool) -> None:
        """Queued behind the callers' bookings of the same resource, as they are behind each other."""
        with transaction.atomic():
            resource_lock(obj.resource_id)
            super().save_model(request, obj, form, change)
