"""Who made a change the history records: a person (admin) or an API key (by its name)."""

from __future__ import annotations

from typing import Any

from simple_history.models import HistoricalRecords


def stamp_api_key(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    """API keys are not users, so ``history_user`` stays empty; the key's name is the reason."""
    request = getattr(HistoricalRecords.context, "request", None)
    api_key = getattr(request, "auth", None) if request is not None else None
    name = getattr(api_key, "name", None)
    if name and not getattr(history_instance, "history_change_reason", None):
        history_instance.history_change_reason = f"API key {name}"[:100]
