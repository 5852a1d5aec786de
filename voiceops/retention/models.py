"""The audit trail of data retention: one row per purge run, saying what went and why."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RetentionPurge(models.Model):
    """One run of ``purge_expired_data``. Counts are updated after every batch, so a run that
    dies half way still records what it had already purged (``finished_at`` stays empty)."""

    class Trigger(models.TextChoices):
        COMMAND = "command", "Management command"
        TASK = "task", "Periodic task"

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    triggered_by = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.TASK)
    retention_days = models.PositiveIntegerField(help_text="The default age limit (RETENTION_DAYS).")
    cutoff = models.DateTimeField(help_text="Data created before this was purged (default scope).")
    calls_affected = models.PositiveIntegerField(default=0)
    transcript_turns_deleted = models.PositiveIntegerField(default=0)
    transcripts_cleared = models.PositiveIntegerField(default=0, help_text="Call.transcript_text emptied.")
    recordings_cleared = models.PositiveIntegerField(default=0, help_text="Calls whose recording URLs went.")
    call_artifacts_cleared = models.PositiveIntegerField(
        default=0, help_text="Calls whose stored Vapi call object lost its artifact (transcript, recording)."
    )
    event_bodies_cleared = models.PositiveIntegerField(default=0)
    scopes = models.JSONField(
        default=list, blank=True, help_text="Per scope (default, campaign:<id>): days, cutoff and counts."
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(finished_at__isnull=True)
                | models.Q(finished_at__gte=models.F("started_at")),
                name="retention_purge_finished_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(triggered_by__in=["command", "task"]), name="retention_purge_trigger_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Retention purge {self.started_at:%Y-%m-%d %H:%M} (cutoff {self.cutoff:%Y-%m-%d})"
