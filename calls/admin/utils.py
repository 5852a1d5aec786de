"""Helpers shared by the ops console's admin classes: secret redaction, JSON display, fast counts.

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
import re
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.html import format_html

SECRET_KEY_PATTERN = re.compile(
    r"(secret|token|password|passwd|authorization|api[-_]?key|credential|signature|private[-_]?key|"
    r"cookie|x-vapi-secret|bearer)",
    re.IGNORECASE,
)
REDACTED = "••••••"


def redact(value: Any) -> Any:
    """A copy of ``value`` with every mapping entry whose key names a secret replaced by a mask.

    Vapi payloads can carry ``server.secret``, credentials and auth headers; the admin
    shows raw payloads to ops staff, so everything it renders goes through here first.
    """
    if isinstance(value, dict):
        return {
            key: (
                REDACTED if isinstance(key, str) and SECRET_KEY_PATTERN.search(key) and val else redact(val)
            )
            for key, val in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def redact_text(text: str) -> str:
    """Redact a JSON document given as text; text that is not JSON is returned masked of known secrets."""
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return mask_known_secrets(text or "")
    return json.dumps(redact(parsed), indent=2, ensure_ascii=False, sort_keys=False)


def mask_known_secrets(text: str) -> str:
    """Mask the configured secrets (Vapi API key, webhook secrets) wherever they occur verbatim."""
    from django.conf import settings

    secrets = [getattr(settings, "VAPI_API_KEY", ""), *getattr(settings, "VAPI_WEBHOOK_SECRET", [])]
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, REDACTED)
    return text


def pretty_json(value: Any, *, max_chars: int = 20000) -> str:
    """Redacted, indented JSON in a <pre>, truncated so one huge payload cannot stall a page."""
    if isinstance(value, str):
        text = redact_text(value)
    else:
        text = json.dumps(redact(value), indent=2, ensure_ascii=False, default=str)
    text = mask_known_secrets(text)
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n… ({len(text) - max_chars} more characters)"
    return format_html('<pre class="vo-json">{}</pre>', text)


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
    change_list_template = "admin/calls/fast_change_list.html"
    list_per_page = 50
    list_max_show_all = 500
    list_defer: tuple[str, ...] = ()

    def get_changelist(self, request: Any, **kwargs: Any) -> type[ChangeList]:
        return DeferringChangeList
