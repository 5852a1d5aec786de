"""An "Export CSV" button on a changelist that downloads what the list shows: same filters,
same search, every page (calls/exports.py writes the rows)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path, reverse

from calls.exports import csv_response


class CsvExportMixin(admin.ModelAdmin):
    export_name = "export"
    export_rows: Callable[..., Iterator[list[Any]]]

    def get_urls(self) -> list:
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name=self._export_url_name()),
            *super().get_urls(),
        ]

    def _export_url_name(self) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_export"

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        return csv_response(type(self).export_rows(queryset), name=self.export_name)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        extra = {**(extra_context or {}), "export_url": reverse(f"admin:{self._export_url_name()}")}
        return super().changelist_view(request, extra)
