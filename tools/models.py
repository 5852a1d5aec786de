"""Tools the assistant may call, their invocations, and bookable resources."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import Func, Q


class Tool(models.Model):
    """One row per tool declared in the registry: ops can disable it or change its deadline."""

    name = models.CharField(max_length=64, unique=True)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    timeout_seconds = models.FloatField(default=5.0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(timeout_seconds__gt=0) & Q(timeout_seconds__lte=300), name="tool_timeout_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InvocationState(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    DEFERRED = "deferred", "Finishing in background"


class ToolOutcome(models.TextChoices):
    """What the tool did for the caller, beside whether it ran (``InvocationState``).

    "Succeeded" only says the handler answered; the outcome says whether the caller got
    what they asked for ("slot taken" is a succeeded run that booked nothing).
    """

    BOOKED = "booked", "Booked"
    ALREADY_BOOKED = "already_booked", "Already booked"
    SLOT_TAKEN = "slot_taken", "Slot taken"
    SLOT_UNAVAILABLE = "slot_unavailable", "Time not bookable"
    CANCELLED = "cancelled", "Cancelled"
    RESCHEDULED = "rescheduled", "Rescheduled"
    OPTED_OUT = "opted_out", "Opted out"
    FOUND = "found", "Found"
    NEW_CALLER = "new_caller", "New caller"
    AVAILABILITY = "availability", "Times offered"
    NOT_FOUND = "not_found", "Not found"
    REFUSED = "refused", "Refused"
    INVALID = "invalid", "Invalid arguments"
    UNAVAILABLE = "unavailable", "Tool unavailable"
    PENDING = "pending", "Still running"
    ERROR = "error", "Error"


class ToolInvocation(models.Model):
    """One tool call, keyed by (Vapi call id, toolCallId) so a repeat never runs the side effect twice.

    Model providers reuse short ids such as ``call_0`` across calls, so the toolCallId alone
    is not a key: two calls that both send ``call_0`` are two invocations.
    """

    tool_call_id = models.CharField(max_length=128)
    call = models.ForeignKey(
        "calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="tool_invocations"
    )
    # No index of its own: every claim writes each index, and lookups by call go through the
    # unique (vapi_call_id, tool_call_id) index below (db_index would add two, one a LIKE twin).
    vapi_call_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=80)
    arguments = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=InvocationState.choices, default=InvocationState.RUNNING)
    result = models.TextField(blank=True)
    error = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=ToolOutcome.choices, blank=True)
    follows = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        help_text="The deferred invocation this one is a follow-up of (answered with its result).",
    )
    delivered_at = models.DateTimeField(
        null=True, blank=True, help_text="When a follow-up read this deferred invocation's final answer out."
    )
    latency_ms = models.FloatField(null=True, blank=True)
    context = models.JSONField(
        default=dict, blank=True, help_text="What the handler needs to finish later: caller number, event id."
    )
    deferred_at = models.DateTimeField(
        null=True, blank=True, help_text="When the deadline passed and the work moved to a worker."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["name", "created_at"], name="toolinv_name_created"),
            # Every claim looks for a deferred, undelivered run in its call (the lineage): a
            # handful of rows at any time, so this index stays tiny and is rarely written,
            # where the planner would otherwise AND the whole per-tool name index into it.
            models.Index(
                fields=["vapi_call_id"],
                condition=Q(deferred_at__isnull=False, delivered_at__isnull=True),
                name="toolinv_deferred_open",
            ),
        ]
        constraints = [
            # Calls with a Vapi id dedupe per call; an id-less message is never matched to another.
            models.UniqueConstraint(
                fields=["vapi_call_id", "tool_call_id"],
                condition=~Q(vapi_call_id=""),
                name="toolinv_call_tool_call_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.tool_call_id}"


def default_working_hours() -> dict[str, Any]:
    """Monday to Friday 09:00-17:00 in the resource's time zone."""
    day = [["09:00", "17:00"]]
    return {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": [], "sun": []}


class Resource(models.Model):
    """Something that can be booked: a person or a room."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        ROOM = "room", "Room"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERSON)
    time_zone = models.CharField(max_length=64, default="UTC")
    slot_minutes = models.PositiveIntegerField(default=30)
    working_hours = models.JSONField(default=default_working_hours)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="resource_slot_min"),
        ]

    def __str__(self) -> str:
        return self.name


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CANCELLED = "cancelled", "Cancelled"
    RESCHEDULED = "rescheduled", "Rescheduled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no-show", "No show"


ACTIVE_APPOINTMENT_STATUSES = [AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED]


class Appointment(models.Model):
    """A booking. Postgres refuses two active appointments of one resource that overlap."""

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="appointments")
    customer = models.ForeignKey("calls.Customer", on_delete=models.PROTECT, related_name="appointments")
    call = models.ForeignKey(
        "calls.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    vapi_call_id = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="The Vapi call it was booked in, if any."
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    confirmation_code = models.CharField(max_length=12, unique=True)
    notes = models.TextField(blank=True)
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rescheduled_to"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["resource", "starts_at"], name="appointment_resource_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AppointmentStatus.values), name="appointment_status_valid"
            ),
            ExclusionConstraint(
                name="appointment_no_overlap",
                expressions=[
                    ("resource", RangeOperators.EQUAL),
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=ACTIVE_APPOINTMENT_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.starts_at:%Y-%m-%d %H:%M} ({self.confirmation_code})"
