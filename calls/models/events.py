"""The webhook ledger: every authenticated Vapi message, stored before anything acts on it."""

from __future__ import annotations

from django.db import models

from calls.enums import EventState


class WebhookEvent(models.Model):
    message_type = models.CharField(max_length=100)
    # Indexed in Meta, not with db_index: that would add a second (LIKE) index on Postgres.
    vapi_call_id = models.CharField(max_length=64, blank=True)
    body = models.TextField(help_text="Raw request body as received (UTF-8).")
    headers = models.JSONField(default=dict, blank=True, help_text="Selected, non-secret headers.")
    received_at = models.DateTimeField(auto_now_add=True)
    message_timestamp = models.BigIntegerField(
        null=True, blank=True, help_text="message.timestamp, epoch milliseconds."
    )
    dedupe_key = models.CharField(max_length=200)  # unique: see Meta.constraints
    state = models.CharField(max_length=10, choices=EventState.choices, default=EventState.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    response = models.JSONField(
        null=True, blank=True, help_text="What we answered, so a duplicate is answered the same way."
    )

    class Meta:
        ordering = ["-received_at"]
        # Every index is written by every webhook. The two on random keys (dedupe key, call id)
        # are the ones that grow costly as the ledger fills, so each has exactly one index: a
        # field's unique=True/db_index=True would add a varchar_pattern_ops twin that no query
        # uses (bench/ledger_ingest_bench.py).
        indexes = [
            models.Index(fields=["vapi_call_id"], name="event_vapi_call_id"),
            models.Index(fields=["state", "received_at"], name="event_state_received"),
            models.Index(fields=["received_at"], name="event_received"),
            models.Index(fields=["message_type", "received_at"], name="event_type_received"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="event_dedupe_key_unique"),
            models.CheckConstraint(condition=models.Q(state__in=EventState.values), name="event_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.message_type} {self.vapi_call_id or '-'} ({self.state})"
