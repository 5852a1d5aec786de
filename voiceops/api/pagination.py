"""Pagination: cursors for the append-heavy streams (calls, events), limit/offset elsewhere."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, LimitOffsetPagination


class DefaultPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class CreatedCursorPagination(CursorPagination):
    """Stable under inserts: new calls/events arriving while a client pages never shift pages."""

    ordering = "-created_at"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ReceivedCursorPagination(CreatedCursorPagination):
    ordering = "-received_at"
