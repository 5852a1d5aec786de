"""Changelists for big tables, shared by every app's admin: fast counts, deferred columns.

Why a custom paginator: Django's changelist asks its paginator for ``count`` on every page.
On a calls or events table with millions of rows a plain ``COUNT(*)`` is a sequential scan
that grows with the table. ``EstimatedCountPaginator`` counts at most ``exact_count_cap``
rows (``SELECT COUNT(*) FROM (SELECT 1 ... LIMIT n)``, an index-bounded scan) and, past that,
reports Postgres' own estimate: ``pg_class.reltuples`` for the unfiltered table, or the
planner's row estimate (``EXPLAIN``) for a filtered one. The page itself stays exact; only
the "N results" figure and the page count become approximate on very large tables.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """A paginator whose ``count`` never scans more than ``exact_count_cap`` rows (see module doc)."""

    exact_count_cap = 10_000

    @cached_property
    def count(self) -> int:  # type: ignore[override]
        queryset: Any = self.object_list
        capped = queryset.order_by()[: self.exact_count_cap + 1].count()
        if capped <= self.exact_count_cap:
            return capped
        estimate = self._estimate(queryset)
        return max(estimate, capped)

    @staticmethod
    def _estimate(queryset: Any) -> int:
        """Postgres' row estimate: reltuples when unfiltered, the planner's guess when filtered."""
        connection = connections[queryset.db]
        query = queryset.order_by().query
        with connection.cursor() as cursor:
            if not query.where:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
                return int(row[0]) if row and row[0] and row[0] > 0 else 0
            sql, params = query.sql_with_params()
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            return int(plan[0]["Plan"]["Plan Rows"])


class DeferringChangeList(ChangeList):
    """Leaves the model admin's ``list_defer`` columns (raw bodies, big JSON) out of the list query."""

    def get_queryset(self, request: Any, exclude_parameters: Any = None) -> Any:
        queryset = super().get_queryset(request, exclude_parameters)
        defer = getattr(self.model_admin, "list_defer", ())
        return queryset.defer(*defer) if defer else queryset


class FastChangelistMixin(admin.ModelAdmin):
    """For big tables: estimated counts, no full-table count link, a date hierarchy without
    DISTINCT scans, heavy columns deferred, bounded page sizes."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    change_list_template = "console/fast_change_list.html"
    list_per_page = 50
    list_max_show_all = 500
    list_defer: tuple[str, ...] = ()

    def get_changelist(self, request: Any, **kwargs: Any) -> type[ChangeList]:
        return DeferringChangeList
