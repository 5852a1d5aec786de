"""API keys (hashed, with scopes) and the idempotency ledger of the API."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from voiceops.api.scopes import Scope


class ApiKey(AbstractAPIKey):
    """A key another service sends as ``Authorization: Api-Key <prefix>.<secret>``.

    Only a SHA-512 hash of the key is stored (djangorestframework-api-key); the secret is
    shown once, by ``create_api_key`` or the admin, and never again.
    """

    scopes = ArrayField(
        models.CharField(max_length=32, choices=Scope.choices),
        default=list,
        blank=True,
        help_text="What the key may do; 'admin' implies everything.",
    )
    rate_limit = models.CharField(
        max_length=20,
        blank=True,
        help_text="Per-key throttle such as '1000/min'; empty uses API_THROTTLE_RATE.",
        validators=[
            RegexValidator(
                r"^[1-9][0-9]{0,6}/(s|sec|second|m|min|minute|h|hour|d|day)$",
                "Use a rate such as 100/min, 10/s, 5000/hour or 100000/day.",
            )
        ],
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scopes__contained_by=Scope.values), name="apikey_scopes_known"
            ),
        ]


class IdempotencyState(models.TextChoices):
    IN_FLIGHT = "in-flight", "In flight"
    COMPLETED = "completed", "Completed"


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an ``Idempotency-Key``, replayed for repeats.

    The unique constraint on (api_key, key) is what makes two concurrent identical
    requests safe: only one INSERT wins; the other sees the in-flight row and waits.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="idempotency_records")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of method, path and canonical body.")
    state = models.CharField(
        max_length=10, choices=IdempotencyState.choices, default=IdempotencyState.IN_FLIGHT
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    locked_at = models.DateTimeField(help_text="When the request that owns the row started.")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_unique_per_api_key"),
            models.CheckConstraint(
                condition=models.Q(state__in=IdempotencyState.values), name="idempotency_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(state=IdempotencyState.IN_FLIGHT)
                | models.Q(response_status__isnull=False),
                name="idempotency_completed_has_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"
