"""Admin for assistants and phone numbers: sync state, push, history diff/revert, drift, routing.

Logic stays in services; this module translates their domain errors into messages and
form errors. No secret is ever rendered: the webhook credential is shown by id only and
the pushed payload carries only a credential id, never a key.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from assistants.models import Assistant, DriftState, PushState, TransferDestination
from assistants.selectors import assistant_versions, assistant_versions_diff
from assistants.services import (
    assistant_drift_check,
    assistant_push_on_save,
    assistant_request_push,
    assistant_revert,
)
from assistants.validation import CONFIG_FIELDS
from voiceops.errors import DomainError
from voiceops.vapi import enums as vapi_enums
from voiceops.vapi.client import VapiError

# CSS classes of voiceops/console/static/console/console.css (the CSP refuses inline styles).
STATE_COLOURS: dict[str, str] = {
    PushState.IN_SYNC: "ok",
    PushState.PENDING: "warn",
    PushState.FAILED: "bad",
    PushState.NEVER_PUSHED: "muted",
    DriftState.DRIFTED: "bad",
    DriftState.MISSING: "bad",
    DriftState.UNKNOWN: "muted",
}


def _badge(value: str, label: str) -> str:
    return format_html('<b class="vo-state {}">{}</b>', STATE_COLOURS.get(value, "ok"), label)


def _error_text(exc: DomainError) -> str:
    if exc.fields:
        return "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in exc.fields.items())
    return exc.message


class LinesField(forms.CharField):
    """A list of strings edited as one line per item."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class AssistantForm(forms.ModelForm):
    server_messages = forms.MultipleChoiceField(
        choices=vapi_enums.choices(vapi_enums.SERVER_MESSAGES),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Which server messages Vapi sends to voiceops.",
    )
    end_call_phrases = LinesField(required=False, help_text="One phrase per line.")

    class Meta:
        model = Assistant
        fields = [*CONFIG_FIELDS, "tools"]


class TransferDestinationInline(admin.TabularInline):
    """People the assistant can transfer to (Vapi's transferCall tool, pushed with the assistant)."""

    model = TransferDestination
    extra = 0
    fields = (
        "position",
        "kind",
        "number",
        "sip_uri",
        "message",
        "description",
        "department",
        "open_hours_only",
    )
    verbose_name = "transfer destination (a department or opening-hours condition makes voiceops choose)"


@admin.register(Assistant)
class AssistantAdmin(SimpleHistoryAdmin):
    form = AssistantForm
    inlines = [TransferDestinationInline]
    change_form_template = "admin/assistants/assistant/change_form.html"
    list_display = (
        "name",
        "model_summary",
        "voice_summary",
        "push_badge",
        "drift_badge",
        "pushed_at",
        "vapi_id",
    )
    list_filter = ("push_state", "drift_state", "model_provider", "voice_provider")
    search_fields = ("name", "vapi_id")
    filter_horizontal = ("tools",)
    actions = ["push_selected", "check_drift_selected"]
    readonly_fields = (
        "vapi_id",
        "push_badge",
        "push_error",
        "pushed_at",
        "pushed_version",
        "drift_badge",
        "drift_fields_list",
        "drift_checked_at",
        "pushed_payload_pretty",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "first_message", "first_message_mode", "system_prompt")}),
        ("Model", {"fields": ("model_provider", "model_name", "temperature", "max_tokens", "tools")}),
        (
            "Voice and transcriber",
            {
                "fields": (
                    "voice_provider",
                    "voice_id",
                    "transcriber_provider",
                    "transcriber_model",
                    "transcriber_language",
                ),
            },
        ),
        (
            "Call behaviour",
            {
                "fields": (
                    "end_call_phrases",
                    "end_call_message",
                    "voicemail_message",
                    "voicemail_detection",
                    "max_duration_seconds",
                    "recording_enabled",
                    "recording_format",
                ),
            },
        ),
        ("Analysis", {"fields": ("summary_prompt", "structured_data_schema", "success_rubric")}),
        ("Server", {"fields": ("server_messages", "metadata")}),
        (
            "Sync with Vapi",
            {
                "fields": (
                    "vapi_id",
                    "push_badge",
                    "push_error",
                    "pushed_at",
                    "pushed_version",
                    "drift_badge",
                    "drift_fields_list",
                    "drift_checked_at",
                    "pushed_payload_pretty",
                ),
            },
        ),
        ("Timestamps", {"classes": ("collapse",), "fields": ("created_at", "updated_at")}),
    )

    # --- columns ------------------------------------------------------------------------------
    @admin.display(description="Model")
    def model_summary(self, obj: Assistant) -> str:
        return f"{obj.model_provider}/{obj.model_name} t={obj.temperature:g}"

    @admin.display(description="Voice")
    def voice_summary(self, obj: Assistant) -> str:
        return f"{obj.voice_provider}/{obj.voice_id}"

    @admin.display(description="Push state", ordering="push_state")
    def push_badge(self, obj: Assistant) -> str:
        return _badge(obj.push_state, obj.get_push_state_display())

    @admin.display(description="Drift", ordering="drift_state")
    def drift_badge(self, obj: Assistant) -> str:
        label = obj.get_drift_state_display()
        if obj.drift_state == DriftState.DRIFTED and obj.drift_fields:
            label = f"{label}: {len(obj.drift_fields)} field(s)"
        return _badge(obj.drift_state, label)

    @admin.display(description="Fields that differ in Vapi")
    def drift_fields_list(self, obj: Assistant) -> str:
        if not obj.drift_fields:
            return "-"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li><code>{}</code></li>", ((f,) for f in obj.drift_fields))
        )

    @admin.display(description="Payload last pushed")
    def pushed_payload_pretty(self, obj: Assistant) -> str:
        if not obj.pushed_payload:
            return "-"
        return format_html(
            "<pre class='vo-pre'>{}</pre>",
            json.dumps(obj.pushed_payload, indent=2, ensure_ascii=False),
        )

    # --- saving -------------------------------------------------------------------------------
    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        try:
            if assistant_push_on_save(assistant=form.instance):
                messages.info(request, "Push to Vapi queued (ASSISTANT_PUSH_ON_SAVE is on).")
        except DomainError as exc:
            messages.error(request, f"Saved, but not pushed: {_error_text(exc)}")

    # --- actions --------------------------------------------------------------------------------
    @admin.action(description="Push selected assistants to Vapi")
    def push_selected(self, request: HttpRequest, queryset: QuerySet[Assistant]) -> None:
        queued, refused = 0, []
        for assistant in queryset:
            try:
                assistant_request_push(assistant=assistant)
                queued += 1
            except DomainError as exc:
                refused.append(f"{assistant.name}: {_error_text(exc)}")
        if queued:
            messages.success(request, f"Push queued for {queued} assistant(s).")
        for line in refused:
            messages.error(request, f"Not pushed: {line}")

    @admin.action(description="Check selected assistants for drift")
    def check_drift_selected(self, request: HttpRequest, queryset: QuerySet[Assistant]) -> None:
        for assistant in queryset:
            self._drift(request, assistant)

    def _drift(self, request: HttpRequest, assistant: Assistant) -> None:
        try:
            result = assistant_drift_check(assistant=assistant)
        except VapiError as exc:
            messages.error(request, f"{assistant.name}: drift check failed: {exc}")
            return
        if result.state == DriftState.UNKNOWN:
            messages.warning(request, f"{assistant.name}: never pushed, nothing to compare.")
        elif result.state == DriftState.IN_SYNC:
            messages.success(request, f"{assistant.name}: Vapi matches what was pushed.")
        elif result.state == DriftState.MISSING:
            messages.error(request, f"{assistant.name}: missing in Vapi.")
        else:
            messages.warning(request, f"{assistant.name}: drifted in {', '.join(result.fields)}.")

    # --- extra views: push button, drift button, version compare and revert ------------------
    def get_urls(self) -> list:
        extra = [
            path(
                "<path:object_id>/push/",
                self.admin_site.admin_view(self.push_view),
                name=f"assistants_{self.model._meta.model_name}_push",
            ),
            path(
                "<path:object_id>/drift/",
                self.admin_site.admin_view(self.drift_view),
                name=f"assistants_{self.model._meta.model_name}_drift",
            ),
            path(
                "<path:object_id>/history/compare/",
                self.admin_site.admin_view(self.compare_view),
                name=f"assistants_{self.model._meta.model_name}_compare",
            ),
            path(
                "<path:object_id>/history/<int:history_id>/restore/",
                self.admin_site.admin_view(self.restore_view),
                name=f"assistants_{self.model._meta.model_name}_restore",
            ),
        ]
        return extra + super().get_urls()

    def _get_for_change(self, request: HttpRequest, object_id: str) -> Assistant:
        assistant = get_object_or_404(Assistant, pk=object_id)
        if not self.has_change_permission(request, assistant):
            raise PermissionDenied
        return assistant

    def _change_url(self, assistant: Assistant) -> str:
        return reverse("admin:assistants_assistant_change", args=[assistant.pk])

    def push_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        assistant = self._get_for_change(request, object_id)
        self.push_selected(request, Assistant.objects.filter(pk=assistant.pk))
        return HttpResponseRedirect(self._change_url(assistant))

    def drift_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        assistant = self._get_for_change(request, object_id)
        self._drift(request, assistant)
        return HttpResponseRedirect(self._change_url(assistant))

    def compare_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        assistant = get_object_or_404(Assistant, pk=object_id)
        if not self.has_view_or_change_permission(request, assistant):
            raise PermissionDenied
        versions = list(assistant_versions(assistant=assistant)[:200])
        ids = [v.history_id for v in versions]
        changes, error = [], ""
        try:
            to_id = int(request.GET.get("to") or (ids[0] if ids else 0))
            from_id = int(request.GET.get("from") or (ids[1] if len(ids) > 1 else to_id))
            if ids:
                changes = assistant_versions_diff(assistant=assistant, from_id=from_id, to_id=to_id)
        except (ValueError, DomainError) as exc:
            error = getattr(exc, "message", "Choose two versions from the lists.")
            from_id = to_id = 0
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare versions of {assistant.name}",
            "opts": self.model._meta,
            "original": assistant,
            "versions": versions,
            "from_id": from_id,
            "to_id": to_id,
            "changes": changes,
            "error": error,
            "can_restore": self.has_change_permission(request, assistant),
            "pushed_version": assistant.pushed_version,
        }
        return TemplateResponse(request, "admin/assistants/assistant/compare.html", context)

    def restore_view(self, request: HttpRequest, object_id: str, history_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        assistant = self._get_for_change(request, object_id)
        try:
            assistant_revert(assistant=assistant, history_id=history_id, by=request.user)
        except DomainError as exc:
            messages.error(request, f"Not restored: {_error_text(exc)}")
            return HttpResponseRedirect(self._change_url(assistant))
        messages.success(request, f"Restored version {history_id}; it is a new version now, not yet pushed.")
        try:
            if assistant_push_on_save(assistant=assistant):
                messages.info(request, "Push to Vapi queued.")
        except DomainError as exc:
            messages.error(request, f"Not pushed: {_error_text(exc)}")
        return HttpResponseRedirect(self._change_url(assistant))

    def render_change_form(
        self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        context["push_on_save"] = settings.ASSISTANT_PUSH_ON_SAVE
        return super().render_change_form(request, context, *args, **kwargs)


# The phone-number admin (modes, routing rules, closures) lives in its own module.
from assistants import admin_numbers  # noqa: E402,F401
