"""Transfers of a call to a person, as Vapi reported them (each source kept, deduplicated)."""

from __future__ import annotations

from django.db import models


class TransferSource(models.TextChoices):
    REQUEST = "request", "Our answer to transfer-destination-request"
    FORWARDING = "forwarding", "status-update: forwarding"
    TRANSFER_UPDATE = "transfer-update", "transfer-update message"
    REPORT = "report", "End-of-call report"


class CallTransfer(models.Model):
    """One report of a transfer. ``key`` (source + a hash of what was reported) makes a redelivered
    message change nothing; the destination is kept verbatim and as a short label for people."""

    call = models.ForeignKey("calls.Call", on_delete=models.CASCADE, related_name="transfers")
    source = models.CharField(max_length=20, choices=TransferSource.choices)
    key = models.CharField(max_length=64)
    destination = models.JSONField(default=dict, blank=True)
    destination_label = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=500, blank=True, help_text="Status, reason or rule, as reported.")
    at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["call", "at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "key"], name="call_transfer_unique_key"),
            models.CheckConstraint(
                condition=models.Q(source__in=TransferSource.values), name="call_transfer_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.destination_label or '?'}"
