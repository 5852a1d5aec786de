"""History: every config edit is a version; restore and diff work on those versions."""

from __future__ import annotations

import pytest

from assistants.selectors import assistant_versions_diff
from assistants.services import assistant_revert
from tests.factories import AssistantFactory, ToolFactory
from voiceops.errors import NotFound

pytestmark = pytest.mark.django_db


def test_revert_restores_config_and_tools_but_not_sync_state(admin_user):
    first_tool, second_tool = ToolFactory(name="lookup"), ToolFactory(name="book")
    assistant = AssistantFactory(temperature=0.2, vapi_id="v-1")
    assistant.tools.set([first_tool])
    original = assistant.history.latest().history_id

    assistant.temperature = 1.1
    assistant.first_message = "Changed"
    assistant.save()
    assistant.tools.set([second_tool])
    latest = assistant.history.latest().history_id

    changes = {
        c.field: (c.old, c.new)
        for c in assistant_versions_diff(assistant=assistant, from_id=original, to_id=latest)
    }
    assert changes["temperature"] == (0.2, 1.1)
    assert changes["tools"] == ([str(first_tool.pk)], [str(second_tool.pk)])

    assistant_revert(assistant=assistant, history_id=original, by=admin_user)

    assistant.refresh_from_db()
    assert assistant.temperature == 0.2
    assert assistant.first_message != "Changed"
    assert list(assistant.tools.all()) == [first_tool]
    assert assistant.vapi_id == "v-1"  # sync bookkeeping is never reverted
    assert assistant.history.latest().history_user == admin_user


def test_unknown_versions_are_not_found(db):
    assistant = AssistantFactory()
    with pytest.raises(NotFound):
        assistant_revert(assistant=assistant, history_id=10**9)
    with pytest.raises(NotFound):
        assistant_versions_diff(
            assistant=assistant, from_id=10**9, to_id=assistant.history.latest().history_id
        )
