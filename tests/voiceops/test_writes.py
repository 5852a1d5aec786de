"""The shared write mechanics: many-to-many set after the row exists; an update writes only the
fields it was given (and the auto_now stamp), so a concurrent change to another field survives."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from assistants.models import Assistant
from tests.factories import AssistantFactory, ToolFactory
from voiceops.writes import row_create, row_update

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)


def test_create_sets_many_to_many_after_the_row_exists():
    tools = [ToolFactory(), ToolFactory()]
    assistant = row_create(Assistant, {"name": "Front desk", "system_prompt": "Help.", "tools": tools})
    assert set(Assistant.objects.get(pk=assistant.pk).tools.all()) == set(tools)


def test_update_writes_the_given_fields_and_the_stamp_only():
    with time_machine.travel(T0, tick=False):
        assistant = AssistantFactory(name="Before", first_message="Hello.")
    stale = Assistant.objects.get(pk=assistant.pk)
    Assistant.objects.filter(pk=assistant.pk).update(first_message="Changed meanwhile.")
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        row_update(stale, {"name": "After", "tools": [ToolFactory()]})
    stored = Assistant.objects.get(pk=assistant.pk)
    assert (stored.name, stored.first_message) == ("After", "Changed meanwhile.")
    assert stored.updated_at == T0 + dt.timedelta(hours=1)
    assert stored.tools.count() == 1
