"""Live call control by ops staff (end, say, transfer through Vapi's monitor.controlUrl)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ControlAction(models.TextChoices):
    END = "end-call", "End the call"
    SAY = "say", "Say a sentence"
    TRANSFER = "transfer", "Transfer"


class ControlState(models.TextChoices):
    SENT = "sent", "Sent (Vapi accepted it)"
    FAILED = "failed", "Failed"


class CallControl(models.Model):
    """One action on a live call, on the call's timeline: who, when, what, and what Vapi said."""

    call = models.ForeignKey("calls.Call", on_delete=models.CASCADE, related_name="controls")
    action = models.CharField(max_length=20, choices=ControlAction.choices)
    content = models.CharField(max_length=1000, blank=True)
    destination = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by = models.CharField(max_length=150, help_text="Who acted: a staff user or an API key, by name.")
    state = models.CharField(max_length=10, choices=ControlState.choices)
    error = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["call", "created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=ControlAction.values), name="call_control_action_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=ControlState.values), name="call_control_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.by} ({self.state})"
