"""Idempotency-Key: replay, mismatch, invalid keys, the in-flight race and takeover of dead rows."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from calls.models import Campaign
from tests.api.conftest import assert_error, make_key
from tests.factories import AssistantFactory, PhoneNumberFactory
from voiceops.api.models import IdempotencyRecord, IdempotencyState
from voiceops.api.scopes import Scope

URL = "/api/v1/campaigns/"


def _body(assistant, name="Reminders"):
    return {"name": name, "assistant": assistant.pk, "max_concurrent_calls": 2}


@pytest.fixture
def writer(client_with):
    return client_with(Scope.CAMPAIGNS_WRITE, Scope.READ)


@pytest.mark.django_db
def test_same_key_same_body_replays_first_response_and_creates_once(writer):
    assistant = AssistantFactory()
    first = writer.post(URL, _body(assistant), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first
    second = writer.post(URL, _body(assistant), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Campaign.objects.count() == 1


@pytest.mark.django_db
def test_body_key_order_does_not_matter(writer):
    assistant = AssistantFactory()
    body = _body(assistant)
    writer.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-order")
    reordered = dict(reversed(list(body.items())))
    again = writer.post(URL, reordered, format="json", HTTP_IDEMPOTENCY_KEY="k-order")
    assert again["Idempotent-Replayed"] == "true"
    assert Campaign.objects.count() == 1


@pytest.mark.django_db
def test_same_key_different_body_is_422_and_creates_nothing_more(writer):
    assistant = AssistantFactory()
    assert writer.post(URL, _body(assistant), format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201
    response = writer.post(URL, _body(assistant, "Other"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert_error(response, 422, "idempotency_key_mismatch")
    assert Campaign.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_per_api_key(client_with):
    assistant = AssistantFactory()
    a = client_with(Scope.CAMPAIGNS_WRITE)
    b = client_with(Scope.CAMPAIGNS_WRITE)
    assert a.post(URL, _body(assistant), format="json", HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    response = b.post(URL, _body(assistant), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Campaign.objects.count() == 2


@pytest.mark.django_db
def test_without_key_every_post_acts(writer):
    assistant = AssistantFactory()
    writer.post(URL, _body(assistant), format="json")
    writer.post(URL, _body(assistant), format="json")
    assert Campaign.objects.count() == 2


@pytest.mark.django_db
def test_validation_errors_are_replayed_too(writer):
    bad = {"name": "", "assistant": 999999}
    first = writer.post(URL, bad, format="json", HTTP_IDEMPOTENCY_KEY="k-bad")
    error = assert_error(first, 400, "validation_error")
    assert set(error["fields"]) == {"name", "assistant"}
    second = writer.post(URL, bad, format="json", HTTP_IDEMPOTENCY_KEY="k-bad")
    assert second["Idempotent-Replayed"] == "true" and second.json() == first.json()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["", " ", "x" * 256, "caf\u00e9"])
def test_invalid_key_header_is_400(writer, value):
    response = writer.post(URL, {}, format="json", HTTP_IDEMPOTENCY_KEY=value)
    error = assert_error(response, 400, "validation_error")
    assert "Idempotency-Key" in error["fields"]


@pytest.mark.django_db
def test_request_in_flight_answers_409_after_waiting(writer, settings):
    settings.API_IDEMPOTENCY_WAIT_SECONDS = 0.3
    assistant = AssistantFactory()
    body = _body(assistant)
    # Find the fingerprint by doing it once under another key, then plant an in-flight row.
    from voiceops.api import idempotency

    seen = {}
    real = idempotency.request_fingerprint

    def spy(*, request):
        seen["hash"] = real(request=request)
        return seen["hash"]

    idempotency.request_fingerprint = spy
    try:
        writer.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="probe")
    finally:
        idempotency.request_fingerprint = real
    IdempotencyRecord.objects.create(
        api_key=writer.api_key, key="busy", request_hash=seen["hash"], locked_at=timezone.now()
    )
    response = writer.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    assert_error(response, 409, "idempotency_in_flight")
    assert Campaign.objects.count() == 1  # only the probe


@pytest.mark.django_db
def test_dead_in_flight_row_is_taken_over(writer, settings):
    settings.API_IDEMPOTENCY_LOCK_SECONDS = 60
    assistant = AssistantFactory()
    body = _body(assistant)
    first = writer.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="dead")
    record = IdempotencyRecord.objects.get(key="dead")
    # Pretend the owner crashed before storing its answer, long ago.
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyState.IN_FLIGHT,
        response_status=None,
        response_body=None,
        locked_at=timezone.now() - dt.timedelta(minutes=5),
    )
    Campaign.objects.all().delete()
    retry = writer.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="dead")
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    assert first.status_code == 201
    assert IdempotencyRecord.objects.get(key="dead").state == IdempotencyState.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_identical_requests_create_one_campaign(settings):
    settings.API_IDEMPOTENCY_WAIT_SECONDS = 10
    assistant = AssistantFactory()
    PhoneNumberFactory(assistant=assistant)
    _, key = make_key(Scope.CAMPAIGNS_WRITE)
    body = _body(assistant)
    barrier = threading.Barrier(2)
    results: list = []

    def post():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        barrier.wait()
        try:
            response = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="race")
            results.append((response.status_code, response.json(), response.get("Idempotent-Replayed")))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2
    assert Campaign.objects.count() == 1
    statuses = sorted(r[0] for r in results)
    # The loser either waited and got the replay, or (if the winner was slow) a 409.
    assert statuses in ([201, 201], [201, 409])
    if statuses == [201, 201]:
        assert results[0][1] == results[1][1]
        assert sorted(str(r[2]) for r in results) == ["None", "true"]


@pytest.mark.django_db
def test_keys_expire_after_the_retention_period(writer, settings):
    from voiceops.api.idempotency import idempotency_records_purge

    settings.API_IDEMPOTENCY_RETENTION_HOURS = 24
    assistant = AssistantFactory()
    writer.post(URL, _body(assistant), format="json", HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - dt.timedelta(hours=25))
    # An expired key is new again, even with another body.
    response = writer.post(URL, _body(assistant, "Other"), format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Campaign.objects.count() == 2
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert idempotency_records_purge() == 1
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_purge_task_is_scheduled_and_runs(settings):
    from voiceops.api.tasks import idempotency_records_purge_task

    entry = settings.CELERY_BEAT_SCHEDULE["api-idempotency-purge"]
    assert entry["task"] == idempotency_records_purge_task.name
    assert idempotency_records_purge_task.delay() is not None
