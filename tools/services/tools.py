"""Writes to the tool registry's rows: switching a tool on or off for every assistant."""

from __future__ import annotations

from django.db import transaction

from tools.models import Tool


def tool_set_enabled(*, tool: Tool, enabled: bool) -> Tool:
    """Turn a tool on or off for every assistant; the registry skips disabled tools."""
    with transaction.atomic():
        tool = Tool.objects.select_for_update().get(pk=tool.pk)
        if tool.enabled != enabled:
            tool.enabled = enabled
            tool.save(update_fields=["enabled", "updated_at"])  # save(): the change enters the history
    return tool
