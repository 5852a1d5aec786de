"""API keys in the admin: the secret is shown once, in the message after creation, never again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from voiceops.api.models import ApiKey, IdempotencyRecord
from voiceops.api.scopes import Scope


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "rate_limit", "expiry_date", "revoked"]


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    form = ApiKeyForm
    list_display = (
        "prefix",
        "name",
        "scopes_display",
        "created",
        "last_used_at",
        "expiry_date",
        "_has_expired",
        "revoked",
    )  # type: ignore[assignment]
    list_filter = ("revoked", "created")  # type: ignore[assignment]

    @admin.display(description="Scopes")
    def scopes_display(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes) or "-"

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        return (*super().get_readonly_fields(request, obj), "last_used_at")  # type: ignore[return-value]


# The library registers its own (unused) key model; one "API keys" page avoids confusion.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "api_key", "state", "response_status", "created_at")  # type: ignore[assignment]
    list_filter = ("state",)
    search_fields = ("key",)
    readonly_fields = [f.name for f in IdempotencyRecord._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
