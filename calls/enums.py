"""Every status and reason of the calls domain. Vapi's strings map to ours in outcomes.py."""

from django.db import models


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    WEB = "web", "Web"


class CallStatus(models.TextChoices):
    """Vapi's call statuses, in the only order a call may move through them."""

    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    RINGING = "ringing", "Ringing"
    IN_PROGRESS = "in-progress", "In progress"
    FORWARDING = "forwarding", "Forwarding"
    ENDED = "ended", "Ended"

    @classmethod
    def rank(cls, value: str) -> int:
        """Position in the forward-only order; unknown values rank lowest so they never win."""
        try:
            return STATUS_ORDER.index(value)
        except ValueError:
            return -1


STATUS_ORDER: list[str] = [s.value for s in CallStatus]


class Outcome(models.TextChoices):
    """Our grouping of Vapi's ~600 ended reasons; campaign retry policies key on these."""

    COMPLETED = "completed", "Completed"
    BUSY = "busy", "Busy"
    NO_ANSWER = "no-answer", "No answer"
    VOICEMAIL = "voicemail", "Voicemail"
    FAILED = "failed", "Failed"
    INVALID_NUMBER = "invalid-number", "Invalid number"
    CANCELLED = "cancelled", "Cancelled"
    TRANSFERRED = "transferred", "Transferred to a person"
    TRANSFER_FAILED = "transfer-failed", "Transfer did not connect (busy, no answer, error)"
    # Connected, but not what the campaign counts as reached (too short, no success): retried.
    NOT_REACHED = "not-reached", "Connected, not reached"
    # Vapi refused to start the call (concurrency limit, no worker): never rang, not an attempt.
    REFUSED = "refused", "Refused by Vapi"
    OTHER = "other", "Other"


class EventState(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class TurnRole(models.TextChoices):
    USER = "user", "Caller"
    ASSISTANT = "assistant", "Assistant"
    SYSTEM = "system", "System"
    TOOL_CALL = "tool_calls", "Tool call"
    TOOL_RESULT = "tool_call_result", "Tool result"


class TurnSource(models.TextChoices):
    LIVE = "live", "Live transcript"
    REPORT = "report", "End-of-call report"


class CampaignState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class RecipientState(models.TextChoices):
    PENDING = "pending", "Pending"
    DIALING = "dialing", "Dialing"
    IN_CALL = "in-call", "In call"
    RETRY = "retry", "Waiting to retry"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    BLOCKED = "blocked", "Blocked"
    CANCELLED = "cancelled", "Cancelled"


class AttemptState(models.TextChoices):
    """One dial of one number. The order matters for crash safety (see calls/campaigns/models.py)."""

    RESERVED = "reserved", "Reserved (not sent)"
    REQUESTING = "requesting", "Sent to Vapi, no answer yet"
    UNKNOWN = "unknown", "Vapi answer lost; reconciling"
    ACCEPTED = "accepted", "Accepted by Vapi"
    ENDED = "ended", "Ended"
    REJECTED = "rejected", "Refused by Vapi"
    ABANDONED = "abandoned", "Never sent"
    LOST = "lost", "Not found in Vapi"
    REFUSED = "refused", "Refused by Vapi (limit); not an attempt"


ACTIVE_ATTEMPT_STATES: list[str] = [
    AttemptState.RESERVED,
    AttemptState.REQUESTING,
    AttemptState.UNKNOWN,
    AttemptState.ACCEPTED,
]
# Attempts that may have rung the customer's phone: they count against the per-customer cap.
DIALED_ATTEMPT_STATES: list[str] = [
    AttemptState.REQUESTING,
    AttemptState.UNKNOWN,
    AttemptState.ACCEPTED,
    AttemptState.ENDED,
]


class DecisionRule(models.TextChoices):
    """The rule that allowed or blocked a dial; stored on every DispatchDecision."""

    ALLOWED = "allowed", "All checks passed"
    CALLING_WINDOW = "calling-window", "Outside the recipient's calling window"
    DO_NOT_CALL = "do-not-call", "On the do-not-call list"
    CONSENT = "consent", "No consent recorded"
    KILL_SWITCH = "kill-switch", "Outbound calling paused globally"
    CUSTOMER_CAP = "customer-cap", "Per-customer attempt cap reached"
    CUSTOMER_BUSY = "customer-busy", "Customer already has a call in progress"
    MAX_ATTEMPTS = "max-attempts", "Campaign's maximum attempts reached"
    CAMPAIGN_STATE = "campaign-state", "Campaign not running"
    CAMPAIGN_ENDED = "campaign-ended", "Campaign end time passed"
    SPEND_LIMIT = "spend-limit", "Campaign spend limit reached"
    TIME_ZONE = "time-zone", "Recipient's time zone unknown"
    CONFIGURATION = "configuration", "Assistant or phone number not pushed to Vapi"
    ORG_BUDGET = "org-budget", "The org's outbound budget is in use"
    VAPI_REFUSED = "vapi-refused", "Vapi refused the call (rate or concurrency limit)"
