"""Per-user console preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from calls.models.customers import validate_time_zone


class ConsolePreference(models.Model):
    """A person's display time zone: every timestamp in the console is shown in it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_preference"
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="IANA zone, e.g. America/Chicago. Empty = the site default (CONSOLE_TIME_ZONE).",
    )

    def __str__(self) -> str:
        return f"{self.user} ({self.time_zone or 'default'})"


def _register_history() -> None:
    """Change history (django-simple-history) for what ops change and must be able to trace:
    campaigns (start, pause, settings), customers (do-not-call and consent with their source),
    tools (switched off, deadline) and phone numbers (routing). Assistants keep their own.

    The historical tables live in this app, so the owning apps' models stay untouched.
    Every save through the admin, the API or a service is recorded (post_save); the API's
    key name is stamped as the change reason (voiceops.console.history).
    """
    from simple_history import register
    from simple_history.models import HistoricalRecords

    from assistants.models import PhoneNumber
    from calls.models import Campaign, Customer
    from tools.models import Tool

    for model in (Campaign, Customer, Tool, PhoneNumber):
        if not hasattr(model, "history"):
            register(model, app="voiceops.console", records_class=HistoricalRecords)


_register_history()


class RecipientImport(models.Model):
    """A confirmed recipient upload, written by a Celery worker in chunks (progress shown live).

    The CSV is kept until the job finishes so a worker restart can run it again: rows are
    added with ``ignore_conflicts``, so a rerun adds only what is missing.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Adding recipients"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey("calls.Campaign", on_delete=models.CASCADE, related_name="imports")
    csv_text = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    accepted_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_recipients = models.PositiveIntegerField(default=0)
    created_customers = models.PositiveIntegerField(default=0)
    updated_customers = models.PositiveIntegerField(
        default=0, help_text="Known customers whose name or time zone the file changed."
    )
    rejected = models.JSONField(default=list, blank=True, help_text="[{line, number, reason}, ...]")
    error = models.TextField(blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Import {self.pk} into {self.campaign_id} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(self.processed_rows * 100 / self.accepted_rows) if self.accepted_rows else 0
