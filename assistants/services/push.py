"""Pushing an assistant's config to Vapi: create the first time, update after, skip when unchanged.

The row is locked (SELECT ... FOR UPDATE) for the whole push so that two pushes of one
assistant never both create it in Vapi. Sync bookkeeping is written with ``update()`` so it
never adds a history row (history is for config changes people make).

A create (POST) that timed out or got a 5xx may still have been carried out by Vapi; the
row is then flagged ``create_unconfirmed`` and the next attempt first looks for an
assistant carrying our id in ``metadata`` and adopts it instead of creating a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from assistants.models import Assistant, DriftState, PushState
from assistants.payload import METADATA_ID_KEY, assistant_payload, payload_hash, update_body
from assistants.services.credentials import webhook_credential_ensure
from assistants.validation import assistant_validate
from voiceops import metrics
from voiceops.errors import DomainError
from voiceops.vapi.client import VapiClient, VapiError, VapiNotFound, VapiServerError, VapiTimeout, get_client

log = structlog.get_logger(__name__)

PushAction = Literal["created", "updated", "adopted", "unchanged"]
ORPHAN_SEARCH_LIMIT = 1000


@dataclass(frozen=True)
class PushResult:
    action: PushAction
    vapi_id: str
    payload_hash: str


class AssistantPushError(DomainError):
    """A push that did not go through. ``retryable`` errors are worth another attempt later."""

    code = "push_failed"

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        fields: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message, fields=fields)
        self.retryable = retryable
        self.retry_after = retry_after


def _latest_version_id(assistant_id: int) -> int | None:
    return (
        Assistant.history.filter(id=assistant_id)
        .order_by("-history_id")
        .values_list("history_id", flat=True)
        .first()
    )


def _find_orphan(client: VapiClient, assistant: Assistant) -> str | None:
    """An assistant in Vapi created by an earlier, unanswered POST for this row."""
    remote = client.assistant_list(limit=ORPHAN_SEARCH_LIMIT) or []
    for item in remote:
        metadata = item.get("metadata") if isinstance(item, dict) else None
        if isinstance(metadata, dict) and str(metadata.get(METADATA_ID_KEY)) == str(assistant.pk):
            return str(item.get("id") or "") or None
    return None


def _send(client: VapiClient, assistant: Assistant, payload: dict[str, Any]) -> tuple[PushAction, str]:
    vapi_id = assistant.vapi_id
    if not vapi_id and assistant.create_unconfirmed:
        vapi_id = _find_orphan(client, assistant)
        if vapi_id:
            client.assistant_update(vapi_id, payload)
            return "adopted", vapi_id
    if vapi_id:
        try:
            client.assistant_update(vapi_id, update_body(payload=payload, previous=assistant.pushed_payload))
            return "updated", vapi_id
        except VapiNotFound:
            log.warning("assistants.push.missing_in_vapi", assistant_id=assistant.pk, vapi_id=vapi_id)
    try:
        response = client.assistant_create(payload)
    except (VapiTimeout, VapiServerError):
        Assistant.objects.filter(pk=assistant.pk).update(create_unconfirmed=True)
        raise
    new_id = str((response or {}).get("id") or "")
    if not new_id:
        raise VapiError("Vapi accepted the assistant but returned no id", status=None, body=response)
    return "created", new_id


def assistant_push(*, assistant: Assistant, final_attempt: bool = True) -> PushResult:
    """Build the payload, create/update it in Vapi when it changed, and record the outcome.

    On failure the state becomes ``failed`` with Vapi's message, unless the error is
    retryable and this is not the ``final_attempt`` (then it stays ``pending``, with the
    reason, while the task retries). Raises ``AssistantPushError`` in both cases.
    """
    failure: AssistantPushError | None = None
    with transaction.atomic():
        locked = Assistant.objects.select_for_update().get(pk=assistant.pk)
        rows = Assistant.objects.filter(pk=locked.pk)
        try:
            assistant_validate(assistant=locked)
            try:
                credential_id = webhook_credential_ensure()
            except VapiError as exc:
                exc.message = f"webhook credential: {exc.message}"
                raise
            payload = assistant_payload(assistant=locked, credential_id=credential_id)
            digest = payload_hash(payload)
            if locked.vapi_id and digest == locked.pushed_hash:
                rows.update(
                    push_state=PushState.IN_SYNC, push_error="", pushed_version=_latest_version_id(locked.pk)
                )
                log.info("assistants.push.unchanged", assistant_id=locked.pk, vapi_id=locked.vapi_id)
                result = PushResult(action="unchanged", vapi_id=locked.vapi_id, payload_hash=digest)
            else:
                action, vapi_id = _send(get_client(), locked, payload)
                rows.update(
                    vapi_id=vapi_id,
                    push_state=PushState.IN_SYNC,
                    push_error="",
                    pushed_hash=digest,
                    pushed_payload=payload,
                    pushed_at=timezone.now(),
                    pushed_version=_latest_version_id(locked.pk),
                    create_unconfirmed=False,
                    drift_state=DriftState.IN_SYNC,
                    drift_fields=[],
                    drift_checked_at=timezone.now(),
                )
                log.info("assistants.push.done", assistant_id=locked.pk, vapi_id=vapi_id, action=action)
                result = PushResult(action=action, vapi_id=vapi_id, payload_hash=digest)
        except VapiError as exc:
            retryable = exc.retryable
            keep_pending = retryable and not final_attempt
            message = f"Vapi: {exc}"
            rows.update(
                push_state=PushState.PENDING if keep_pending else PushState.FAILED,
                push_error=f"Retrying after: {message}" if keep_pending else message,
            )
            log.warning(
                "assistants.push.failed",
                assistant_id=locked.pk,
                status=exc.status,
                retrying=keep_pending,
                error=message[:300],
            )
            if not keep_pending:
                metrics.push_failed(f"vapi-{exc.status or 'unavailable'}")
            failure = AssistantPushError(message, retryable=retryable, retry_after=exc.retry_after)
        except DomainError as exc:
            rows.update(push_state=PushState.FAILED, push_error=exc.message)
            metrics.push_failed("invalid-config")
            log.warning("assistants.push.refused", assistant_id=locked.pk, error=exc.message[:300])
            failure = AssistantPushError(exc.message, retryable=False, fields=exc.fields)
    assistant.refresh_from_db()
    if failure is not None:
        raise failure
    return result


def assistant_request_push(*, assistant: Assistant) -> None:
    """Mark the assistant pending and enqueue the push task once the transaction commits.

    An invalid config is refused here (``DomainError`` with field errors), so the API and
    the admin answer at once and nothing is queued or sent.
    """
    from assistants.tasks import assistant_push_task

    assistant_validate(assistant=assistant)
    Assistant.objects.filter(pk=assistant.pk).update(
        push_state=PushState.PENDING, push_error="", push_requested_at=timezone.now()
    )
    assistant.push_state = PushState.PENDING
    assistant.push_error = ""
    assistant_id = assistant.pk

    def enqueue() -> None:
        try:
            assistant_push_task.delay(assistant_id)
        except (KombuOperationalError, OSError) as exc:  # broker down: stays pending, the sweep re-enqueues
            log.warning("assistants.push.enqueue_failed", assistant_id=assistant_id, error=type(exc).__name__)

    transaction.on_commit(enqueue)


def assistant_push_on_save(*, assistant: Assistant) -> bool:
    """Queue a push after an edit when ``ASSISTANT_PUSH_ON_SAVE`` is on. Returns whether it did."""
    if not settings.ASSISTANT_PUSH_ON_SAVE:
        return False
    assistant_request_push(assistant=assistant)
    return True


STALE_PENDING_AFTER_SECONDS = 600


def assistants_requeue_stale_pending() -> int:
    """Re-enqueue pushes that stayed ``pending`` too long (their task message was never sent)."""
    from assistants.tasks import assistant_push_task

    cutoff = timezone.now() - timedelta(seconds=STALE_PENDING_AFTER_SECONDS)
    ids = list(
        Assistant.objects.filter(push_state=PushState.PENDING, push_requested_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for assistant_id in ids:
        Assistant.objects.filter(pk=assistant_id).update(push_requested_at=timezone.now())
        assistant_push_task.delay(assistant_id)
    return len(ids)
