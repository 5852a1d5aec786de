"""Admin for phone numbers: mode (fixed/routed) kept in step with Vapi, routing rules, closures.

The mode is changed through the "Set mode" action (it PATCHes Vapi first, so it is not a plain
form field); the change page shows what Vapi really has and says when it differs.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from assistants.models import Closure, NumberMode, PhoneNumber, RoutingRule
from assistants.selectors import assistants_pushed
from assistants.services.phone_numbers import (
    phone_number_check,
    phone_number_set_mode,
    phone_numbers_import,
)
from voiceops.errors import DomainError
from voiceops.vapi.client import VapiError


class ModeForm(forms.Form):
    mode = forms.ChoiceField(choices=NumberMode.choices, widget=forms.RadioSelect)
    assistant = forms.ModelChoiceField(
        queryset=assistants_pushed(),
        required=False,
        help_text="Fixed: the assistant bound in Vapi (required). Routed: the default when no rule "
        "matches (optional). Only assistants already pushed to Vapi are listed.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == NumberMode.FIXED and data.get("assistant") is None:
            self.add_error("assistant", "A fixed number needs the assistant it is bound to.")
        return data


class RoutingRuleInline(admin.TabularInline):
    model = RoutingRule
    extra = 0
    fields = (
        "position",
        "name",
        "enabled",
        "when",
        "caller",
        "caller_numbers",
        "action",
        "assistant",
        "refusal_message",
    )
    ordering = ("position", "id")
    verbose_name = "routing rule (routed mode; first match wins)"
    formfield_overrides = {models.JSONField: {"widget": forms.TextInput(attrs={"size": 24})}}


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0
    fields = ("starts_on", "ends_on", "name")


def _error(exc: Exception) -> str:
    return str(getattr(exc, "message", "") or exc)


@admin.register(PhoneNumber)
class PhoneNumberAdmin(SimpleHistoryAdmin):
    change_list_template = "admin/assistants/phonenumber/change_list.html"
    list_display = ("number", "name", "provider", "mode", "route", "vapi_state", "vapi_id")
    list_filter = ("provider", "mode", "vapi_mode")
    search_fields = ("number", "name", "vapi_id")
    readonly_fields = (
        "vapi_id",
        "provider",
        "mode",
        "assistant",
        "vapi_state",
        "vapi_assistant_id",
        "vapi_server_url",
        "vapi_checked_at",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("number", "name", "vapi_id", "provider")}),
        (
            "Mode (change it with the “Set mode” action: Vapi is updated first)",
            {
                "fields": (
                    "mode",
                    "assistant",
                    "vapi_state",
                    "vapi_assistant_id",
                    "vapi_server_url",
                    "vapi_checked_at",
                )
            },
        ),
        ("Opening hours (routed numbers)", {"fields": ("time_zone", "opening_hours")}),
        ("Transfers", {"fields": ("transfer_destination",)}),
        (None, {"fields": ("created_at", "updated_at")}),
    )
    inlines = [RoutingRuleInline, ClosureInline]
    actions = ["set_mode_selected", "check_selected"]

    @admin.display(description="Inbound route")
    def route(self, obj: PhoneNumber) -> str:
        if obj.mode == NumberMode.FIXED:
            return f"Assistant: {obj.assistant}" if obj.assistant_id else "No assistant"
        default = f"default {obj.assistant}" if obj.assistant_id else "no default"
        return f"Routing rules ({default})"

    @admin.display(description="In Vapi")
    def vapi_state(self, obj: PhoneNumber) -> str:
        differs = obj.vapi_differs
        if differs:
            return format_html("<strong>Differs.</strong> {}", differs)
        return obj.get_vapi_mode_display()

    @admin.action(description="Set mode (fixed or routed)…")
    def set_mode_selected(self, request: HttpRequest, queryset: QuerySet[PhoneNumber]) -> HttpResponse | None:
        if "apply" in request.POST:
            form = ModeForm(request.POST)
            if form.is_valid():
                done = 0
                for number in queryset:
                    try:
                        phone_number_set_mode(
                            phone_number=number,
                            mode=form.cleaned_data["mode"],
                            assistant=form.cleaned_data["assistant"],
                        )
                        done += 1
                    except (DomainError, VapiError) as exc:
                        messages.error(request, f"{number}: not changed: {_error(exc)}")
                if done:
                    label = NumberMode(form.cleaned_data["mode"]).label
                    messages.success(request, f"{done} number(s) now {label[0].lower()}{label[1:]}.")
                return None
        else:
            form = ModeForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Set the mode of phone numbers",
            "opts": self.model._meta,
            "numbers": queryset,
            "form": form,
            "action": "set_mode_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/assistants/phonenumber/bind.html", context)

    @admin.action(description="Check against Vapi (what Vapi really has)")
    def check_selected(self, request: HttpRequest, queryset: QuerySet[PhoneNumber]) -> None:
        for number in queryset.select_related("assistant"):
            try:
                checked = phone_number_check(phone_number=number)
            except (DomainError, VapiError) as exc:
                messages.error(request, f"{number}: not checked: {_error(exc)}")
                continue
            if checked.vapi_differs:
                messages.warning(request, f"{number}: {checked.vapi_differs}")
            else:
                messages.success(request, f"{number}: Vapi is in step ({checked.get_vapi_mode_display()}).")

    def get_urls(self) -> list:
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name=f"assistants_{self.model._meta.model_name}_import",
            )
        ]
        return extra + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405)
        if not self.has_add_permission(request):
            raise PermissionDenied
        try:
            count = phone_numbers_import()
        except (DomainError, VapiError) as exc:
            messages.error(request, f"Import failed: {_error(exc)}")
        else:
            messages.success(request, f"Imported or updated {count} phone number(s) from Vapi.")
        return HttpResponseRedirect(reverse("admin:assistants_phonenumber_changelist"))
