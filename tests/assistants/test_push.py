"""assistant_push / assistant_request_push / the push task against a faked Vapi."""

from __future__ import annotations

import pytest
import requests
import responses
from prometheus_client import REGISTRY

from assistants.models import Assistant, DriftState, PushState
from assistants.payload import payload_hash
from assistants.services import AssistantPushError, assistant_push, assistant_request_push
from assistants.services.push import assistant_push_on_save
from assistants.tasks import assistant_push_task
from tests.assistants.conftest import ASSISTANT_ID, CREDENTIAL_ID, VAPI, body_of, calls_to
from tests.factories import AssistantFactory
from voiceops.errors import DomainError

pytestmark = pytest.mark.django_db


def created(payload_id: str = ASSISTANT_ID) -> dict:
    return {"id": payload_id, "orgId": "org-1", "name": "x"}


def test_first_push_creates_and_records_everything(vapi, northwind):
    vapi.add(responses.POST, f"{VAPI}/assistant", json=created(), status=201)

    result = assistant_push(assistant=northwind)

    assert result.action == "created"
    northwind.refresh_from_db()
    assert northwind.vapi_id == ASSISTANT_ID
    assert northwind.push_state == PushState.IN_SYNC
    assert northwind.push_error == ""
    assert northwind.pushed_at is not None
    sent = body_of(calls_to(vapi, "POST", "/assistant")[0])
    assert northwind.pushed_payload == sent
    assert northwind.pushed_hash == payload_hash(sent) == result.payload_hash
    assert northwind.pushed_version == northwind.history.latest().history_id
    assert northwind.drift_state == DriftState.IN_SYNC
    assert sent["server"]["credentialId"] == CREDENTIAL_ID


def test_second_push_updates_with_patch(vapi, northwind):
    vapi.add(responses.POST, f"{VAPI}/assistant", json=created(), status=201)
    vapi.add(responses.PATCH, f"{VAPI}/assistant/{ASSISTANT_ID}", json=created(), status=200)
    assistant_push(assistant=northwind)

    northwind.first_message = "Hello again."
    northwind.voicemail_message = ""
    northwind.save()
    result = assistant_push(assistant=northwind)

    assert result.action == "updated"
    patches = calls_to(vapi, "PATCH", f"/assistant/{ASSISTANT_ID}")
    assert len(patches) == 1
    body = body_of(patches[0])
    assert body["firstMessage"] == "Hello again."
    # A field we pushed before and cleared since is cleared in Vapi too.
    assert body["voicemailMessage"] is None
    northwind.refresh_from_db()
    assert northwind.pushed_payload["firstMessage"] == "Hello again."
    assert "voicemailMessage" not in northwind.pushed_payload
    assert northwind.pushed_version == northwind.history.latest().history_id
    assert len(calls_to(vapi, "POST", "/assistant")) == 1


def test_push_without_changes_sends_nothing(vapi, northwind):
    vapi.add(responses.POST, f"{VAPI}/assistant", json=created(), status=201)
    first = assistant_push(assistant=northwind)
    before = len(vapi.calls)

    second = assistant_push(assistant=northwind)

    assert second.action == "unchanged"
    assert second.payload_hash == first.payload_hash
    assert [c.request.method for c in vapi.calls[before:]] == []
    northwind.refresh_from_db()
    assert northwind.push_state == PushState.IN_SYNC


def test_update_of_assistant_deleted_in_vapi_recreates_it(vapi, northwind):
    Assistant.objects.filter(pk=northwind.pk).update(vapi_id="gone-1", pushed_hash="old")
    vapi.add(responses.PATCH, f"{VAPI}/assistant/gone-1", json={"message": "Not Found"}, status=404)
    vapi.add(responses.POST, f"{VAPI}/assistant", json=created("new-2"), status=201)

    result = assistant_push(assistant=northwind)

    assert result.action == "created"
    northwind.refresh_from_db()
    assert northwind.vapi_id == "new-2"


def test_429_with_retry_after_then_success(vapi, northwind):
    vapi.add(
        responses.POST,
        f"{VAPI}/assistant",
        json={"message": "Too Many Requests"},
        status=429,
        headers={"Retry-After": "1"},
    )
    vapi.add(responses.POST, f"{VAPI}/assistant", json=created(), status=201)

    result = assistant_push(assistant=northwind)

    assert result.action == "created"
    assert [c.response.status_code for c in calls_to(vapi, "POST", "/assistant")] == [429, 201]
    northwind.refresh_from_db()
    assert northwind.push_state == PushState.IN_SYNC


def test_500_three_times_then_failed_with_vapis_message(vapi, northwind, settings, eager_retries):
    settings.ASSISTANT_PUSH_MAX_RETRIES = 2
    for _ in range(3):
        vapi.add(
            responses.POST,
            f"{VAPI}/assistant",
            json={"message": "Internal assistant store unavailable", "statusCode": 500},
            status=500,
        )
    vapi.add(responses.GET, f"{VAPI}/assistant", json=[], status=200)

    outcome = assistant_push_task.delay(northwind.pk)

    assert outcome.get() == "failed"
    # POST is never retried on 5xx by the client; the task retried twice (three attempts in all).
    assert len(calls_to(vapi, "POST", "/assistant")) == 3
    northwind.refresh_from_db()
    assert northwind.push_state == PushState.FAILED
    assert "Internal assistant store unavailable" in northwind.push_error
    assert "500" in northwind.push_error
    assert northwind.vapi_id is None


def test_patch_500_is_retried_by_the_client_then_succeeds(vapi, northwind):
    Assistant.objects.filter(pk=northwind.pk).update(vapi_id=ASSISTANT_ID, pushed_hash="old")
    vapi.add(responses.PATCH, f"{VAPI}/assistant/{ASSISTANT_ID}", json={"message": "oops"}, status=502)
    vapi.add(responses.PATCH, f"{VAPI}/assistant/{ASSISTANT_ID}", json=created(), status=200)

    assert assistant_push(assistant=northwind).action == "updated"
    assert len(calls_to(vapi, "PATCH", f"/assistant/{ASSISTANT_ID}")) == 2


def test_vapi_400_fails_at_once_without_retry(vapi, northwind):
    vapi.add(
        responses.POST,
        f"{VAPI}/assistant",
        json={"message": ["property foo should not exist"], "error": "Bad Request", "statusCode": 400},
        status=400,
    )

    labels = {"reason": "vapi-400"}
    failures_before = REGISTRY.get_sample_value("voiceops_push_failures_total", labels) or 0
    assert assistant_push_task.delay(northwind.pk).get() == "failed"
    assert len(calls_to(vapi, "POST", "/assistant")) == 1
    assert REGISTRY.get_sample_value("voiceops_push_failures_total", labels) == failures_before + 1
    northwind.refresh_from_db()
    assert northwind.push_state == PushState.FAILED
    assert "property foo should not exist" in northwind.push_error


def test_create_timeout_is_handled_and_the_copy_adopted_next_time(vapi, northwind, settings):
    settings.ASSISTANT_PUSH_MAX_RETRIES = 0
    vapi.add(responses.POST, f"{VAPI}/assistant", body=requests.exceptions.ReadTimeout("read timed out"))

    assert assistant_push_task.delay(northwind.pk).get() == "failed"
    northwind.refresh_from_db()
    assert northwind.push_state == PushState.FAILED
    assert "did not answer in time" in northwind.push_error
    assert northwind.create_unconfirmed is True

    # Vapi had created it after all: the next push finds it by our id in metadata.
    vapi.add(
        responses.GET,
        f"{VAPI}/assistant",
        json=[
            {"id": "other", "metadata": {}},
            {"id": ASSISTANT_ID, "metadata": {"voiceops_assistant_id": str(northwind.pk)}},
        ],
    )
    vapi.add(responses.PATCH, f"{VAPI}/assistant/{ASSISTANT_ID}", json=created(), status=200)

    result = assistant_push(assistant=northwind)

    assert result.action == "adopted"
    assert len(calls_to(vapi, "POST", "/assistant")) == 1
    northwind.refresh_from_db()
    assert (northwind.vapi_id, northwind.push_state, northwind.create_unconfirmed) == (
        ASSISTANT_ID,
        PushState.IN_SYNC,
        False,
    )


def test_connection_timeout_on_update_is_retried_then_marked_failed(vapi, northwind, settings, eager_retries):
    settings.ASSISTANT_PUSH_MAX_RETRIES = 1
    Assistant.objects.filter(pk=northwind.pk).update(vapi_id=ASSISTANT_ID, pushed_hash="old")
    vapi.add(
        responses.PATCH,
        f"{VAPI}/assistant/{ASSISTANT_ID}",
        body=requests.exceptions.ConnectTimeout("connect timed out"),
    )

    assert assistant_push_task.delay(northwind.pk).get() == "failed"
    northwind.refresh_from_db()
    assert northwind.push_state == PushState.FAILED
    assert "did not answer in time" in northwind.push_error
    assert len(calls_to(vapi, "PATCH", f"/assistant/{ASSISTANT_ID}")) == 2


def test_invalid_config_is_refused_and_nothing_is_sent(vapi, db):
    assistant = AssistantFactory()
    Assistant.objects.filter(pk=assistant.pk).update(temperature=1.5, voice_provider="acme-voices")
    assistant.refresh_from_db()

    with pytest.raises(DomainError) as refused:
        assistant_request_push(assistant=assistant)
    assert "voice_provider" in refused.value.fields

    with pytest.raises(AssistantPushError) as failed:
        assistant_push(assistant=assistant)
    assert failed.value.retryable is False
    assert len(vapi.calls) == 0
    assistant.refresh_from_db()
    assert assistant.push_state == PushState.FAILED
    assert "voice provider" in assistant.push_error


def test_request_push_marks_pending_and_enqueues_on_commit(
    vapi, northwind, django_capture_on_commit_callbacks
):
    vapi.add(responses.POST, f"{VAPI}/assistant", json=created(), status=201)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assistant_request_push(assistant=northwind)
        northwind.refresh_from_db()
        assert northwind.push_state == PushState.PENDING
        assert northwind.push_requested_at is not None
    assert len(vapi.calls) == 0  # nothing before commit
    for callback in callbacks:
        callback()

    northwind.refresh_from_db()
    assert northwind.push_state == PushState.IN_SYNC
    assert northwind.vapi_id == ASSISTANT_ID


def test_push_on_save_follows_the_setting(vapi, northwind, settings, django_capture_on_commit_callbacks):
    vapi.add(responses.POST, f"{VAPI}/assistant", json=created(), status=201)
    settings.ASSISTANT_PUSH_ON_SAVE = False
    assert assistant_push_on_save(assistant=northwind) is False
    settings.ASSISTANT_PUSH_ON_SAVE = True
    with django_capture_on_commit_callbacks(execute=True):
        assert assistant_push_on_save(assistant=northwind) is True
    northwind.refresh_from_db()
    assert northwind.push_state == PushState.IN_SYNC


def test_sync_writes_add_no_history_rows(vapi, northwind):
    vapi.add(responses.POST, f"{VAPI}/assistant", json=created(), status=201)
    versions = northwind.history.count()
    assistant_push(assistant=northwind)
    assert northwind.history.count() == versions


def test_api_key_and_webhook_secret_absent_from_push_logs(
    vapi, northwind, settings, caplog, capfd, eager_retries
):
    import logging

    from voiceops.logging import formatter

    caplog.set_level(logging.DEBUG)
    settings.ASSISTANT_PUSH_MAX_RETRIES = 1
    vapi.add(responses.POST, f"{VAPI}/assistant", json={"message": "boom"}, status=500)
    vapi.add(responses.POST, f"{VAPI}/assistant", json={"message": "boom"}, status=500)
    vapi.add(responses.GET, f"{VAPI}/assistant", json=[])
    assert assistant_push_task.delay(northwind.pk).get() == "failed"

    rendered = "\n".join(formatter("json").format(record) for record in caplog.records)
    captured = capfd.readouterr()
    assert "assistants.push.failed" in rendered
    for secret in (settings.VAPI_API_KEY, *settings.VAPI_WEBHOOK_SECRET):
        assert secret not in rendered
        assert secret not in caplog.text
        assert secret not in captured.err + captured.out


def test_credential_refused_by_vapi_fails_the_push_with_that_reason(northwind):
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, f"{VAPI}/credential", json={"message": "secretKey too short"}, status=400)
        with pytest.raises(AssistantPushError):
            assistant_push(assistant=northwind)
        assert [c.request.url for c in mock.calls] == [f"{VAPI}/credential"]
    northwind.refresh_from_db()
    assert northwind.push_state == PushState.FAILED
    assert northwind.push_error == "Vapi: 400 webhook credential: secretKey too short"
