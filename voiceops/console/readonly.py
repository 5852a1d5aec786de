"""Read-only admin base for ledgers: rows are facts that happened, never edited by hand."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by anyone with the view permission; nobody adds, edits or deletes through the admin.

    Ledgers (webhook events, tool invocations, dispatch decisions) are the evidence ops staff
    reason from; an edited ledger row would lie. Retention jobs delete them, not people.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
