"""The durable record of a call and its transcript."""

from __future__ import annotations

from django.db import models

from calls.enums import CallStatus, Direction, Outcome, TurnRole, TurnSource


class Call(models.Model):
    """One Vapi call. Status only moves forward; a Postgres trigger enforces it (0002)."""

    vapi_id = models.CharField(max_length=64, unique=True)
    direction = models.CharField(max_length=16, choices=Direction.choices, default=Direction.OUTBOUND)
    status = models.CharField(max_length=16, choices=CallStatus.choices, default=CallStatus.QUEUED)
    ended_reason = models.CharField(max_length=200, blank=True, help_text="Vapi's endedReason, verbatim.")
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True, db_index=True)

    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    cost_breakdown = models.JSONField(default=dict, blank=True)

    recording_url = models.URLField(max_length=2000, blank=True)
    stereo_recording_url = models.URLField(max_length=2000, blank=True)
    summary = models.TextField(blank=True)
    structured_data = models.JSONField(default=dict, blank=True)
    success_evaluation = models.CharField(max_length=500, blank=True)
    transcript_text = models.TextField(blank=True, help_text="Vapi's artifact.transcript string.")
    has_final_report = models.BooleanField(default=False)

    # What else the end-of-call report brings that ops read (CONTRACT §4.5, SDK ``Artifact``).
    ended_message = models.TextField(
        blank=True, help_text="Vapi's endedMessage: why the call ended, in words."
    )
    structured_outputs = models.JSONField(
        default=dict, blank=True, help_text="artifact.structuredOutputs: output id -> {name, result}."
    )
    scorecards = models.JSONField(default=dict, blank=True, help_text="artifact.scorecards, verbatim.")
    performance_metrics = models.JSONField(
        default=dict, blank=True, help_text="artifact.performanceMetrics: latencies (ms), interruptions."
    )
    report_transfers = models.JSONField(
        default=list, blank=True, help_text="artifact.transfers: each transfer's destination, mode, status."
    )
    variable_values = models.JSONField(
        default=dict, blank=True, help_text="artifact.variableValues at the end of the call."
    )
    video_recording_url = models.URLField(max_length=2000, blank=True)
    log_url = models.URLField(max_length=2000, blank=True)
    pcap_url = models.URLField(max_length=2000, blank=True)

    assistant = models.ForeignKey(
        "assistants.Assistant", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    assistant_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="History id of the assistant config that was live on the call."
    )
    vapi_assistant_id = models.CharField(max_length=64, blank=True)
    customer = models.ForeignKey(
        "calls.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    customer_number = models.CharField(max_length=40, blank=True, db_index=True)
    phone_number = models.ForeignKey(
        "assistants.PhoneNumber", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    campaign = models.ForeignKey(
        "calls.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    campaign_recipient = models.ForeignKey(
        "calls.CampaignRecipient", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )

    vapi_call = models.JSONField(default=dict, blank=True, help_text="Last known Vapi Call object.")
    last_event_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When reconciliation found this call in Vapi's call list with no record of it here "
        "(every webhook for it was lost); empty for calls the webhooks recorded.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="call_status_created"),
            models.Index(fields=["campaign", "status"], name="call_campaign_status"),
            models.Index(fields=["assistant", "created_at"], name="call_assistant_created"),
            models.Index(fields=["started_at"], name="call_started"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=CallStatus.values), name="call_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(direction__in=Direction.values), name="call_direction_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_seconds__isnull=True) | models.Q(duration_seconds__gte=0),
                name="call_duration_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="") | models.Q(outcome__in=Outcome.values),
                name="call_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Call {self.vapi_id} ({self.status})"


class TranscriptTurn(models.Model):
    """One utterance. Live finals fill the transcript; the end-of-call report replaces it."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="turns")
    position = models.PositiveIntegerField()
    role = models.CharField(max_length=20, choices=TurnRole.choices)
    text = models.TextField(blank=True)
    seconds_from_start = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=TurnSource.choices, default=TurnSource.LIVE)
    data = models.JSONField(default=dict, blank=True, help_text="Tool calls/results carried by the turn.")

    class Meta:
        ordering = ["call", "position"]
        constraints = [
            models.UniqueConstraint(fields=["call", "position"], name="turn_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"
