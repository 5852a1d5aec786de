"""What an API key may do. ``admin`` implies every other scope."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models


class Scope(models.TextChoices):
    READ = "read", "Read everything"
    CALLS_WRITE = "calls:write", "Place calls"
    CAMPAIGNS_WRITE = "campaigns:write", "Manage campaigns and their recipients"
    ASSISTANTS_WRITE = "assistants:write", "Manage assistants, phone numbers and tools"
    APPOINTMENTS_WRITE = "appointments:write", "Book, cancel and reschedule appointments"
    CUSTOMERS_WRITE = "customers:write", "Manage customers and do-not-call"
    ADMIN = "admin", "Everything, including webhook replay"


def scopes_grant(*, granted: Iterable[str], required: str) -> bool:
    """Whether a key holding ``granted`` may perform something that needs ``required``."""
    held = set(granted)
    return Scope.ADMIN in held or required in held
