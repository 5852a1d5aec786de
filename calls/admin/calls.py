"""Calls in the admin: a fast changelist and a call page that reads like the conversation."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from assistants.routing.selectors import routing_summary
from calls.admin.control import LiveControlAdminMixin, live_control_context
from calls.admin.events import can_replay
from calls.admin.export import CsvExportMixin
from calls.admin.report import call_report
from calls.exports import call_export_rows
from calls.models import Call, TranscriptTurn
from calls.selectors.calls import call_events, call_transfers
from calls.selectors.timeline import call_timeline, cost_rows
from voiceops.console.changelist import FastChangelistMixin
from voiceops.console.readonly import ReadOnlyAdmin
from voiceops.console.redaction import pretty_json
from voiceops.console.templatetags.console import format_duration, format_money


def assistant_version_url(call: Call) -> str | None:
    """The history record of the assistant config that was live, when the assistants admin exposes it."""
    if not (call.assistant_id and call.assistant_version):
        return None
    try:
        return reverse(
            "admin:assistants_assistant_simple_history", args=[call.assistant_id, call.assistant_version]
        )
    except NoReverseMatch:
        try:
            return reverse("admin:assistants_assistant_history", args=[call.assistant_id])
        except NoReverseMatch:
            return None


@admin.register(Call)
class CallAdmin(LiveControlAdminMixin, CsvExportMixin, FastChangelistMixin, admin.ModelAdmin):
    """Calls are written by Vapi's webhooks and reconciliation, so the admin shows them read-only."""

    change_form_template = "admin/calls/call/change_form.html"
    export_name = "calls"
    export_rows = staticmethod(call_export_rows)

    class Media:
        css = {"all": ("calls/admin/ops.css",)}

    list_display = (
        "short_id",
        "created_at",
        "customer_display",
        "assistant",
        "outcome_display",
        "duration_display",
        "cost_display",
        "campaign",
    )
    list_display_links = ("short_id",)
    list_select_related = ("assistant", "campaign", "customer")
    list_defer = ("vapi_call", "transcript_text", "cost_breakdown", "performance_metrics", "scorecards")
    list_filter = (
        "status",
        "outcome",
        "direction",
        "has_final_report",
        ("recovered_at", admin.EmptyFieldListFilter),
        "assistant",
        "campaign",
        "created_at",
    )
    search_fields = ("=vapi_id", "^customer_number")
    search_help_text = "Exact Vapi call id, or the start of the customer's number (+1202…)."
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("vapi_id", "direction"),
                    ("status", "outcome"),
                    "ended_reason",
                    ("started_at", "ended_at"),
                    ("duration_display", "cost_display"),
                    "ended_message",
                    "recovered_at",
                )
            },
        ),
        (
            "Who",
            {
                "fields": (
                    ("customer", "customer_number"),
                    ("assistant", "assistant_version_link"),
                    "phone_number",
                    "routing_display",
                    "transfers_display",
                    ("campaign", "campaign_recipient"),
                )
            },
        ),
        (
            "Record",
            {
                "classes": ("collapse",),
                "fields": (
                    "has_final_report",
                    "last_event_at",
                    "created_at",
                    "updated_at",
                    "vapi_assistant_id",
                    "vapi_call_display",
                ),
            },
        ),
    )
    readonly_fields = (
        "vapi_id",
        "direction",
        "status",
        "outcome",
        "ended_reason",
        "started_at",
        "ended_at",
        "duration_display",
        "cost_display",
        "ended_message",
        "recovered_at",
        "customer",
        "customer_number",
        "assistant",
        "assistant_version_link",
        "phone_number",
        "routing_display",
        "transfers_display",
        "campaign",
        "campaign_recipient",
        "has_final_report",
        "last_event_at",
        "created_at",
        "updated_at",
        "vapi_assistant_id",
        "vapi_call_display",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """A call record is evidence: retention purges it, not a button on the call page."""
        return bool(request.user.is_superuser)

    @admin.display(description="Call", ordering="vapi_id")
    def short_id(self, obj: Call) -> str:
        """The first block of Vapi's id: enough to tell calls apart, full id in the title."""
        return format_html('<span class="vo-id" title="{}">{}</span>', obj.vapi_id, obj.vapi_id[:8])

    @admin.display(description="Customer", ordering="customer__name")
    def customer_display(self, obj: Call) -> str:
        name = obj.customer.name if obj.customer else ""
        number = obj.customer_number or (str(obj.customer.number) if obj.customer else "")
        if name:
            return format_html('{}<br><span class="vo-meta vo-nowrap">{}</span>', name, number)
        return format_html('<span class="vo-nowrap">{}</span>', number or "—")

    @admin.display(description="Outcome", ordering="outcome")
    def outcome_display(self, obj: Call) -> str:
        """The outcome once known, else the live status; inbound calls say so."""
        label = obj.get_outcome_display() if obj.outcome else obj.get_status_display()
        if obj.direction == "inbound":
            return format_html('{}<br><span class="vo-meta">inbound</span>', label)
        return label

    @admin.display(description="Duration", ordering="duration_seconds")
    def duration_display(self, obj: Call) -> str:
        return format_duration(obj.duration_seconds)

    @admin.display(description="Cost", ordering="cost")
    def cost_display(self, obj: Call) -> str:
        return format_money(obj.cost)

    @admin.display(description="Assistant version")
    def assistant_version_link(self, obj: Call) -> str:
        if not obj.assistant_version:
            return "-"
        url = assistant_version_url(obj)
        if url is None:
            return f"v{obj.assistant_version}"
        return format_html('<a href="{}">v{}</a>', url, obj.assistant_version)

    @admin.display(description="Routing")
    def routing_display(self, obj: Call) -> str:
        return routing_summary(call=obj)

    @admin.display(description="Transfers")
    def transfers_display(self, obj: Call) -> str:
        rows = [
            (t.at or t.created_at, t.get_source_display(), t.destination_label or "-", t.detail or "")
            for t in call_transfers(call=obj)
        ]
        if not rows:
            return "-"
        return format_html_join(
            mark_safe("<br>"),
            "{:%H:%M:%S} {}: {} {}",
            ((at, source, label, detail) for at, source, label, detail in rows),
        )

    @admin.display(description="Last known Vapi call object")
    def vapi_call_display(self, obj: Call) -> str:
        return pretty_json(obj.vapi_call)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        call = self.get_object(request, object_id)
        if call is not None:
            extra.update(
                timeline=call_timeline(call=call),
                report=call_report(call=call),
                costs=cost_rows(call=call),
                call_events=call_events(call=call),
                can_replay=can_replay(request),
                events_changelist_url=reverse("admin:calls_webhookevent_changelist")
                + f"?vapi_call_id={call.vapi_id}",
                call_obj=call,
                **live_control_context(request=request, call=call),
            )
        response = super().change_view(request, object_id, form_url, extra_context=extra)
        if call is not None:
            allow_recording_origins(response, call)
        return response


def allow_recording_origins(response: HttpResponse, call: Call) -> None:
    """Let the page's CSP (django-csp, when installed) load this call's recordings, and only those origins.

    The default policy allows media from our own origin only, while recordings live on Vapi's
    storage; widening ``media-src`` for this one response keeps the rest of the admin strict.
    """
    origins = []
    for url in (call.recording_url, call.stereo_recording_url):
        parts = urlsplit(url or "")
        if parts.scheme in ("https", "http") and parts.netloc:
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin not in origins:
                origins.append(origin)
    if origins:
        response._csp_update = {"media-src": ["'self'", *origins]}  # type: ignore[attr-defined]


@admin.register(TranscriptTurn)
class TranscriptTurnAdmin(FastChangelistMixin, ReadOnlyAdmin):
    """Turns are shown on the call page; this list exists for searching across calls."""

    list_display = ("call", "position", "role", "seconds_from_start", "short_text", "source")
    list_select_related = ("call",)
    list_defer = ("data", "call__vapi_call", "call__transcript_text", "call__cost_breakdown")
    list_filter = ("role", "source")
    search_fields = ("=call__vapi_id",)
    raw_id_fields = ("call",)

    @admin.display(description="Text")
    def short_text(self, obj: TranscriptTurn) -> str:
        return (obj.text[:120] + "…") if len(obj.text) > 120 else obj.text
