"""Retention: transcripts, recordings and raw event bodies past their age go; an audit row stays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from calls.enums import EventState
from calls.models import Call, TranscriptTurn, WebhookEvent
from tests.factories import CallFactory, CampaignFactory, TranscriptTurnFactory, WebhookEventFactory
from voiceops.errors import DomainError
from voiceops.retention.models import RetentionPurge
from voiceops.retention.services import retention_purge_expired
from voiceops.retention.tasks import retention_purge_task

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def aged(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def make_call(*, days: float, campaign=None, turns: int = 2) -> Call:
    call = CallFactory(
        campaign=campaign,
        transcript_text="AI: Hi\nUser: my number is +15555550123",
        recording_url="https://storage.vapi.ai/rec.wav",
        stereo_recording_url="https://storage.vapi.ai/rec-stereo.wav",
        summary="Booked a cleaning.",
        vapi_call={"id": "x", "status": "ended", "artifact": {"transcript": "..."}, "cost": 0.2},
    )
    Call.objects.filter(pk=call.pk).update(created_at=aged(days))
    TranscriptTurnFactory.create_batch(turns, call=call)
    WebhookEventFactory(
        vapi_call_id=call.vapi_id, body='{"message": {"type": "transcript"}}', state=EventState.PROCESSED
    )
    WebhookEvent.objects.filter(vapi_call_id=call.vapi_id).update(received_at=aged(days))
    return call


def purged(call: Call) -> bool:
    call.refresh_from_db()
    event = WebhookEvent.objects.get(vapi_call_id=call.vapi_id)
    gone = (
        call.transcript_text == ""
        and call.recording_url == ""
        and call.stereo_recording_url == ""
        and "artifact" not in call.vapi_call
        and not TranscriptTurn.objects.filter(call=call).exists()
        and event.body == ""
    )
    kept = (
        call.transcript_text != ""
        and call.recording_url != ""
        and "artifact" in call.vapi_call
        and TranscriptTurn.objects.filter(call=call).exists()
        and event.body != ""
    )
    assert gone or kept, "a call must be purged completely or not at all"
    return gone


def test_purges_only_what_is_older_than_the_default_age_and_audits_it(settings):
    settings.RETENTION_DAYS = 30
    old, fresh = make_call(days=31), make_call(days=29)

    purge = retention_purge_expired(now=NOW)

    assert purged(old) and not purged(fresh)
    old.refresh_from_db()
    assert old.summary == "Booked a cleaning." and old.vapi_call["cost"] == 0.2  # reporting data stays
    audit = RetentionPurge.objects.get()
    assert audit == purge and audit.finished_at is not None
    assert audit.retention_days == 30 and audit.cutoff == NOW - dt.timedelta(days=30)
    assert (audit.calls_affected, audit.transcript_turns_deleted, audit.transcripts_cleared) == (1, 2, 1)
    assert (audit.recordings_cleared, audit.call_artifacts_cleared, audit.event_bodies_cleared) == (1, 1, 1)
    assert audit.scopes[0]["scope"] == "default" and audit.scopes[0]["event_bodies_cleared"] == 1


def test_campaign_override_shortens_and_lengthens_retention(settings):
    settings.RETENTION_DAYS = 30
    short = CampaignFactory(retention_days=7)
    long = CampaignFactory(retention_days=365)
    inherits = CampaignFactory(retention_days=None)
    short_old, short_new = make_call(days=8, campaign=short), make_call(days=6, campaign=short)
    long_kept, long_old = make_call(days=100, campaign=long), make_call(days=400, campaign=long)
    inherits_old = make_call(days=31, campaign=inherits)

    audit = retention_purge_expired(now=NOW)

    assert purged(short_old) and not purged(short_new)
    assert not purged(long_kept) and purged(long_old)
    assert purged(inherits_old)
    by_scope = {s["scope"]: s for s in audit.scopes}
    assert by_scope[f"campaign:{short.pk}"]["days"] == 7
    assert by_scope[f"campaign:{short.pk}"]["calls_affected"] == 1
    assert by_scope[f"campaign:{long.pk}"]["calls_affected"] == 1
    assert by_scope["default"]["calls_affected"] == 1
    assert audit.calls_affected == 3


def test_unprocessed_events_keep_their_body_for_the_sweeper(settings):
    settings.RETENTION_DAYS = 30
    pending = WebhookEventFactory(body='{"message": {}}', state=EventState.RECEIVED)
    done = WebhookEventFactory(body='{"message": {}}', state=EventState.FAILED)
    WebhookEvent.objects.update(received_at=aged(40))

    retention_purge_expired(now=NOW)

    pending.refresh_from_db()
    done.refresh_from_db()
    assert pending.body != "" and done.body == ""


def test_second_run_finds_nothing_and_batches_cover_everything(settings):
    settings.RETENTION_DAYS = 30
    calls = [make_call(days=45, turns=1) for _ in range(5)]

    first = retention_purge_expired(now=NOW, batch_size=2)
    second = retention_purge_expired(now=NOW, batch_size=2)

    assert all(purged(c) for c in calls)
    assert first.calls_affected == 5 and first.event_bodies_cleared == 5
    assert second.calls_affected == 0 and second.event_bodies_cleared == 0
    assert RetentionPurge.objects.count() == 2


def test_command_prints_counts_and_writes_an_audit_row(capsys, settings):
    settings.RETENTION_DAYS = 90
    make_call(days=20)
    call_command("purge_expired_data", "--days", "10")
    out = capsys.readouterr().out
    assert "calls affected: 1" in out and "event bodies cleared: 1" in out
    audit = RetentionPurge.objects.get()
    assert audit.triggered_by == "command" and audit.retention_days == 10


def test_command_refuses_a_zero_day_retention():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least 1 day"):
        call_command("purge_expired_data", "--days", "0")
    with pytest.raises(DomainError):
        retention_purge_expired(default_days=0)


def test_periodic_task_is_scheduled_and_runs(settings):
    settings.RETENTION_DAYS = 30
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-expired-data"]
    assert schedule["task"] == retention_purge_task.name
    old = make_call(days=60)
    retention_purge_task.delay()
    assert purged(old)
    assert RetentionPurge.objects.get().triggered_by == "task"
