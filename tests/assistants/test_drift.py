"""Drift: Vapi's copy compared with what we pushed."""

from __future__ import annotations

import pytest
import responses

from assistants.models import Assistant, DriftState
from assistants.services import assistant_drift_check, assistant_push, assistants_drift_check
from assistants.services.drift import payload_diff
from assistants.tasks import assistants_drift_check_task
from tests.assistants.conftest import ASSISTANT_ID, VAPI
from tests.factories import AssistantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(vapi, northwind):
    vapi.add(responses.POST, f"{VAPI}/assistant", json={"id": ASSISTANT_ID}, status=201)
    assistant_push(assistant=northwind)
    northwind.refresh_from_db()
    return northwind


def remote_copy(assistant: Assistant, **changes) -> dict:
    """What GET /assistant/{id} returns: our payload plus Vapi's own fields and defaults."""
    body = {
        **assistant.pushed_payload,
        "id": ASSISTANT_ID,
        "orgId": "org",
        "createdAt": "2025-03-01T10:12:44.318Z",
        "updatedAt": "2025-03-01T10:12:44.318Z",
        "backgroundSound": "office",
    }
    body["voice"] = {**body["voice"], "chunkPlan": {"enabled": True}}
    body["serverMessages"] = list(reversed(body["serverMessages"]))
    body.update(changes)
    return body


def test_in_sync_when_vapi_only_adds_defaults_and_reorders(vapi, pushed):
    vapi.add(responses.GET, f"{VAPI}/assistant/{ASSISTANT_ID}", json=remote_copy(pushed))
    result = assistant_drift_check(assistant=pushed)
    assert result.state == DriftState.IN_SYNC and result.fields == []


def test_drifted_lists_the_differing_paths(vapi, pushed):
    model = {**pushed.pushed_payload["model"], "temperature": 0.9}
    model["messages"] = [{"role": "system", "content": "Edited in the dashboard"}]
    remote = remote_copy(pushed, model=model, firstMessage="Yo")
    del remote["endCallPhrases"]
    vapi.add(responses.GET, f"{VAPI}/assistant/{ASSISTANT_ID}", json=remote)

    result = assistant_drift_check(assistant=pushed)

    assert result.state == DriftState.DRIFTED
    assert result.fields == [
        "endCallPhrases",
        "firstMessage",
        "model.messages[0].content",
        "model.temperature",
    ]
    pushed.refresh_from_db()
    assert pushed.drift_state == DriftState.DRIFTED
    assert pushed.drift_fields == result.fields
    assert pushed.drift_checked_at is not None


def test_missing_when_deleted_in_vapi(vapi, pushed):
    vapi.add(responses.GET, f"{VAPI}/assistant/{ASSISTANT_ID}", json={"message": "Not Found"}, status=404)
    assert assistant_drift_check(assistant=pushed).state == DriftState.MISSING
    pushed.refresh_from_db()
    assert pushed.drift_state == DriftState.MISSING


def test_never_pushed_is_not_checked(vapi, db):
    assert assistant_drift_check(assistant=AssistantFactory()).state == DriftState.UNKNOWN
    assert len(vapi.calls) == 0


def test_periodic_task_checks_all_and_survives_errors(vapi, pushed):
    other = AssistantFactory(vapi_id="other-1", pushed_payload={"name": "x"})
    vapi.add(responses.GET, f"{VAPI}/assistant/{ASSISTANT_ID}", json=remote_copy(pushed))
    vapi.add(responses.GET, f"{VAPI}/assistant/other-1", json={"message": "Unauthorized"}, status=401)
    counts = assistants_drift_check()
    assert counts[DriftState.IN_SYNC] == 1 and counts["errors"] == 1
    other.refresh_from_db()
    assert other.drift_state == DriftState.UNKNOWN


def test_beat_schedule_runs_the_drift_task(settings, vapi, pushed):
    entry = settings.CELERY_BEAT_SCHEDULE["assistants-drift-check"]
    assert entry["task"] == assistants_drift_check_task.name
    vapi.add(responses.GET, f"{VAPI}/assistant/{ASSISTANT_ID}", json=remote_copy(pushed, name="Renamed"))
    counts = assistants_drift_check_task.delay().get()
    assert counts[DriftState.DRIFTED] == 1 and counts["requeued"] == 0


@pytest.mark.parametrize(
    ("pushed", "remote", "expected"),
    [
        ({"a": 1}, {"a": 1.0}, []),
        ({"a": True}, {"a": 1}, ["a"]),
        ({"a": None}, {}, []),
        ({"a": {"b": [1, 2]}}, {"a": {"b": [2, 1]}}, []),
        ({"a": [{"x": 1}]}, {"a": [{"x": 1}, {"x": 2}]}, ["a"]),
        ({"a": {"b": 1}}, {"a": "flat"}, ["a"]),
    ],
)
def test_payload_diff_rules(pushed, remote, expected):
    assert payload_diff(pushed, remote) == expected
