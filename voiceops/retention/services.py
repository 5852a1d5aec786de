"""Purging personal data past its retention age: transcripts, recordings, raw webhook bodies.

What is purged and what is kept: the call row itself (status, outcome, duration, cost,
summary) stays for reporting; what a caller said (TranscriptTurn rows, ``transcript_text``,
the artifact inside the stored Vapi call object), where the recording lives, and the raw
webhook bodies (which repeat all of that) go. Ledger rows stay so event counts and dedupe
keys survive, with an empty body.

Why batches: a first run on a large database may touch millions of rows. Each batch is its
own short transaction, so live webhooks are never blocked behind one long purge, and the
audit row is updated after every batch.

Scopes: the default age (``RETENTION_DAYS``) applies to calls without a campaign and to
campaigns without ``retention_days``; a campaign's own ``retention_days`` replaces it for
that campaign's calls and their events, whether it is shorter or longer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from calls.enums import EventState
from calls.models import Call, Campaign, TranscriptTurn, WebhookEvent
from voiceops import metrics
from voiceops.retention.models import RetentionPurge

log = structlog.get_logger(__name__)

# Keys of Vapi's Call object that carry what was said or recorded.
VAPI_CALL_PII_KEYS = ["artifact", "messages", "transcript", "recordingUrl", "stereoRecordingUrl"]
COUNT_FIELDS = (
    "calls_affected",
    "transcript_turns_deleted",
    "transcripts_cleared",
    "recordings_cleared",
    "call_artifacts_cleared",
    "event_bodies_cleared",
)


@dataclass
class Scope:
    name: str
    days: int
    cutoff: dt.datetime
    calls: QuerySet[Call]
    events: QuerySet[WebhookEvent]
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_FIELDS, 0))

    def as_json(self) -> dict[str, Any]:
        return {"scope": self.name, "days": self.days, "cutoff": self.cutoff.isoformat(), **self.counts}


def _scopes(*, now: dt.datetime, default_days: int) -> list[Scope]:
    overrides = list(
        Campaign.objects.filter(retention_days__isnull=False)
        .order_by("id")
        .values_list("id", "retention_days")
    )
    override_call_ids = Call.objects.filter(campaign__retention_days__isnull=False).values("vapi_id")
    cutoff = now - dt.timedelta(days=default_days)
    scopes = [
        Scope(
            name="default",
            days=default_days,
            cutoff=cutoff,
            calls=Call.objects.filter(
                Q(campaign__isnull=True) | Q(campaign__retention_days__isnull=True), created_at__lt=cutoff
            ),
            events=WebhookEvent.objects.filter(received_at__lt=cutoff).exclude(
                vapi_call_id__in=override_call_ids
            ),
        )
    ]
    for campaign_id, days in overrides:
        if days is None:  # excluded by the query above; narrows the type
            continue
        campaign_cutoff = now - dt.timedelta(days=days)
        scopes.append(
            Scope(
                name=f"campaign:{campaign_id}",
                days=days,
                cutoff=campaign_cutoff,
                calls=Call.objects.filter(campaign_id=campaign_id, created_at__lt=campaign_cutoff),
                events=WebhookEvent.objects.filter(
                    received_at__lt=campaign_cutoff,
                    vapi_call_id__in=Call.objects.filter(campaign_id=campaign_id).values("vapi_id"),
                ),
            )
        )
    return scopes


def _calls_with_data(calls: QuerySet[Call]) -> QuerySet[Call]:
    """Calls in scope that still hold something to purge (so repeated runs find nothing)."""
    return calls.filter(
        Q(transcript_text__gt="")
        | Q(recording_url__gt="")
        | Q(stereo_recording_url__gt="")
        | Q(vapi_call__has_any_keys=VAPI_CALL_PII_KEYS)
        | Exists(TranscriptTurn.objects.filter(call=OuterRef("pk")))
    )


def _events_with_body(events: QuerySet[WebhookEvent]) -> QuerySet[WebhookEvent]:
    # Unprocessed events keep their body: the sweeper still owes them processing.
    return events.exclude(body="").exclude(state=EventState.RECEIVED)


def _purge_call_batch(ids: list[int]) -> dict[str, int]:
    calls = Call.objects.filter(id__in=ids)
    with transaction.atomic():
        turns = TranscriptTurn.objects.filter(call_id__in=ids).delete()[0]
        transcripts = calls.filter(transcript_text__gt="").update(transcript_text="")
        recordings = calls.filter(Q(recording_url__gt="") | Q(stereo_recording_url__gt="")).update(
            recording_url="", stereo_recording_url=""
        )
        artifacts = calls.filter(vapi_call__has_any_keys=VAPI_CALL_PII_KEYS).update(
            vapi_call=RawSQL("vapi_call - %s::text[]", (VAPI_CALL_PII_KEYS,))
        )
    return {
        "calls_affected": len(ids),
        "transcript_turns_deleted": turns,
        "transcripts_cleared": transcripts,
        "recordings_cleared": recordings,
        "call_artifacts_cleared": artifacts,
    }


def _purge_event_batch(ids: list[int]) -> int:
    with transaction.atomic():
        return WebhookEvent.objects.filter(id__in=ids).update(body="", response=None)


def _record(purge: RetentionPurge, scopes: list[Scope], scope: Scope, counts: dict[str, int]) -> None:
    for name, value in counts.items():
        scope.counts[name] += value
        setattr(purge, name, getattr(purge, name) + value)
    purge.scopes = [s.as_json() for s in scopes]
    purge.save(update_fields=[*COUNT_FIELDS, "scopes"])


def retention_purge_expired(
    *,
    now: dt.datetime | None = None,
    default_days: int | None = None,
    triggered_by: str = RetentionPurge.Trigger.TASK,
    batch_size: int | None = None,
) -> RetentionPurge:
    """Purge transcripts, recordings and raw event bodies past their retention age; audit it."""
    now = now or timezone.now()
    days = int(default_days if default_days is not None else settings.RETENTION_DAYS)
    if days < 1:
        from voiceops.errors import DomainError

        raise DomainError(f"Retention must be at least 1 day, not {days}.", code="retention_days")
    size = int(batch_size or settings.RETENTION_BATCH_SIZE)
    scopes = _scopes(now=now, default_days=days)
    purge = RetentionPurge.objects.create(
        started_at=now, triggered_by=triggered_by, retention_days=days, cutoff=scopes[0].cutoff
    )
    for scope in scopes:
        while ids := list(_calls_with_data(scope.calls).order_by("id").values_list("id", flat=True)[:size]):
            _record(purge, scopes, scope, _purge_call_batch(ids))
        while ids := list(_events_with_body(scope.events).order_by("id").values_list("id", flat=True)[:size]):
            _record(purge, scopes, scope, {"event_bodies_cleared": _purge_event_batch(ids)})
    purge.scopes = [s.as_json() for s in scopes]
    purge.finished_at = max(timezone.now(), purge.started_at)
    purge.save(update_fields=["scopes", "finished_at"])
    for kind in (
        "transcript_turns_deleted",
        "transcripts_cleared",
        "recordings_cleared",
        "event_bodies_cleared",
    ):
        metrics.retention_purged(kind, getattr(purge, kind))
    log.info(
        "retention.purged",
        purge_id=purge.id,
        cutoff=purge.cutoff.isoformat(),
        **{name: getattr(purge, name) for name in COUNT_FIELDS},
    )
    return purge
