"""Customers in the admin: searchable by number, do-not-call and consent editable with their timestamps."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from calls.models import Call, Customer
from calls.services.customers import customer_create, customer_opt_out, customer_update
from voiceops.console.changelist import FastChangelistMixin
from voiceops.console.templatetags.console import format_datetime

# The fields CustomerAdminForm.clean fills in when a box is ticked: written with the box.
STAMPED_BY = {
    "do_not_call": ("do_not_call_at", "do_not_call_source"),
    "consent": ("consent_at", "consent_source"),
}


class CustomerAdminForm(forms.ModelForm):
    """Ticking do-not-call or consent stamps when and by whom, so the DB constraints hold."""

    class Meta:
        model = Customer
        fields = (
            "number",
            "name",
            "email",
            "external_id",
            "time_zone",
            "vip",
            "do_not_call",
            "do_not_call_reason",
            "do_not_call_source",
            "do_not_call_at",
            "consent",
            "consent_source",
            "consent_at",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        now = timezone.now()
        if data.get("do_not_call"):
            data["do_not_call_at"] = data.get("do_not_call_at") or now
            data["do_not_call_source"] = data.get("do_not_call_source") or "admin"
        if data.get("consent"):
            data["consent_at"] = data.get("consent_at") or now
            data["consent_source"] = data.get("consent_source") or "admin"
        for field in ("do_not_call_at", "do_not_call_source", "consent_at", "consent_source"):
            if field in data:
                setattr(self.instance, field, data[field])
        return data


@admin.register(Customer)
class CustomerAdmin(FastChangelistMixin, SimpleHistoryAdmin):
    form = CustomerAdminForm
    list_display = (
        "number",
        "name",
        "time_zone",
        "calling_state",
        "consent_state",
        "created_at",
    )
    list_filter = ("do_not_call", "consent", "vip", "created_at")
    search_fields = ("number", "name", "email", "=external_id")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at", "recent_calls")
    actions = ("put_on_do_not_call_list",)
    fieldsets = (
        (None, {"fields": ("number", "name", "email", "external_id", "time_zone", "vip")}),
        (
            "Do not call",
            {"fields": ("do_not_call", "do_not_call_reason", "do_not_call_source", "do_not_call_at")},
        ),
        ("Consent", {"fields": ("consent", "consent_source", "consent_at")}),
        ("Activity", {"fields": ("recent_calls", "created_at", "updated_at")}),
    )

    def save_model(self, request: HttpRequest, obj: Customer, form: forms.ModelForm, change: bool) -> None:
        """Through the customer service, like the API and the tools: a change writes what the form
        changed, with the stamps ``CustomerAdminForm.clean`` sets beside a ticked box; a consent
        date staff typed is kept."""
        if not change:
            saved = customer_create(data=form.cleaned_data)
            obj.pk, obj.created_at, obj.updated_at = saved.pk, saved.created_at, saved.updated_at
            obj._state.adding = False
            return
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        for box, stamps in STAMPED_BY.items():
            if box in data:
                data.update({stamp: form.cleaned_data[stamp] for stamp in stamps})
        customer_update(customer=obj, data=data)

    @admin.action(description="Put selected customers on the do-not-call list", permissions=["change"])
    def put_on_do_not_call_list(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        """Through the same service as a caller's spoken opt-out; the first opt-out's time is kept."""
        by = request.user.get_username()
        count = 0
        for customer in queryset[:1000]:
            customer_opt_out(number=str(customer.number), reason=f"Set in the admin by {by}", source="admin")
            count += 1
        self.message_user(request, f"{count} customer(s) are on the do-not-call list.", messages.SUCCESS)

    @admin.display(description="Calling", ordering="do_not_call")
    def calling_state(self, obj: Customer) -> str:
        """A state with where it came from and when, not a red/green tick."""
        if not obj.do_not_call:
            return mark_safe('<span class="vo-state-pill ok">May call</span>')  # noqa: S308 - a constant
        return format_html(
            '<span class="vo-state-pill stop">Do not call</span><br><span class="vo-meta">{} · {}</span>',
            obj.do_not_call_source or "unknown source",
            format_datetime(obj.do_not_call_at),
        )

    @admin.display(description="Consent", ordering="consent")
    def consent_state(self, obj: Customer) -> str:
        if not obj.consent:
            return mark_safe('<span class="vo-state-pill muted">Not recorded</span>')  # noqa: S308 - a constant
        return format_html(
            '<span class="vo-state-pill ok">Given</span><br><span class="vo-meta">{} · {}</span>',
            obj.consent_source or "unknown source",
            format_datetime(obj.consent_at),
        )

    @admin.display(description="Recent calls")
    def recent_calls(self, obj: Customer) -> str:
        if not obj.pk:
            return "-"
        calls = Call.objects.filter(customer=obj).only("id", "vapi_id", "created_at", "status", "outcome")[
            :10
        ]
        if not calls:
            return "No calls yet."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a> {} {}</li>',
                (
                    (
                        reverse("admin:calls_call_change", args=[c.pk]),
                        format_datetime(c.created_at),
                        c.status,
                        c.outcome,
                    )
                    for c in calls
                ),
            ),
        )
