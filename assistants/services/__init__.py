"""Write operations on assistants and phone numbers; ``__all__`` names the ones other apps call."""

from assistants.services.credentials import webhook_credential_ensure
from assistants.services.drift import DriftResult, assistant_drift_check, assistants_drift_check
from assistants.services.history import assistant_revert
from assistants.services.phone_numbers import phone_number_bind, phone_numbers_import
from assistants.services.push import (
    AssistantPushError,
    PushResult,
    assistant_push,
    assistant_push_on_save,
    assistant_request_push,
    assistants_requeue_stale_pending,
)

__all__ = [
    "AssistantPushError",
    "DriftResult",
    "PushResult",
    "assistant_drift_check",
    "assistant_push",
    "assistant_push_on_save",
    "assistant_request_push",
    "assistant_revert",
    "assistants_drift_check",
    "assistants_requeue_stale_pending",
    "phone_number_bind",
    "phone_numbers_import",
    "webhook_credential_ensure",
]
