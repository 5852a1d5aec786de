"""Drift: does Vapi still hold what we pushed? (Someone may edit an assistant in Vapi's dashboard.)

Only the paths we pushed are compared: Vapi fills in defaults and adds ids/timestamps, which
are not drift. A missing or different value at one of our paths is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog
from django.utils import timezone

from assistants.models import Assistant, DriftState
from voiceops.vapi.client import VapiError, VapiNotFound, get_client

log = structlog.get_logger(__name__)

_MISSING = object()


@dataclass(frozen=True)
class DriftResult:
    state: str
    fields: list[str] = field(default_factory=list)


def _scalar_list(value: list[Any]) -> bool:
    return all(not isinstance(item, dict | list) for item in value)


def payload_diff(pushed: Any, remote: Any, path: str = "") -> list[str]:
    """Paths (``model.messages[0].content``) where ``remote`` lacks or differs from ``pushed``.

    Lists of plain values (server messages, end-call phrases) compare as sets: order carries
    no meaning there and Vapi may return them reordered.
    """
    if isinstance(pushed, dict):
        if not isinstance(remote, dict):
            return [path or "(root)"]
        diffs: list[str] = []
        for key, value in pushed.items():
            sub = f"{path}.{key}" if path else key
            other = remote.get(key, _MISSING)
            if other is _MISSING:
                if value is not None:
                    diffs.append(sub)
                continue
            diffs.extend(payload_diff(value, other, sub))
        return diffs
    if isinstance(pushed, list):
        if not isinstance(remote, list):
            return [path]
        if _scalar_list(pushed) and _scalar_list(remote):
            try:
                same = sorted(map(repr, pushed)) == sorted(map(repr, remote))
            except TypeError:
                same = pushed == remote
            return [] if same else [path]
        if len(pushed) != len(remote):
            return [path]
        diffs = []
        for index, (mine, theirs) in enumerate(zip(pushed, remote, strict=True)):
            diffs.extend(payload_diff(mine, theirs, f"{path}[{index}]"))
        return diffs
    if isinstance(pushed, bool) or isinstance(remote, bool):
        return [] if pushed is remote else [path]
    if isinstance(pushed, int | float) and isinstance(remote, int | float):
        return [] if abs(pushed - remote) <= 1e-9 else [path]
    return [] if pushed == remote else [path]


def assistant_drift_check(*, assistant: Assistant) -> DriftResult:
    """Fetch the assistant from Vapi and record in-sync / drifted (with paths) / missing."""
    if not assistant.vapi_id or not assistant.pushed_payload:
        return DriftResult(state=DriftState.UNKNOWN)
    try:
        remote = get_client().assistant_get(assistant.vapi_id)
    except VapiNotFound:
        result = DriftResult(state=DriftState.MISSING)
    else:
        diffs = sorted(payload_diff(assistant.pushed_payload, remote or {}))
        result = DriftResult(state=DriftState.DRIFTED if diffs else DriftState.IN_SYNC, fields=diffs)
    Assistant.objects.filter(pk=assistant.pk).update(
        drift_state=result.state, drift_fields=result.fields, drift_checked_at=timezone.now()
    )
    assistant.drift_state, assistant.drift_fields = result.state, result.fields
    if result.state != DriftState.IN_SYNC:
        log.warning(
            "assistants.drift", assistant_id=assistant.pk, state=result.state, fields=result.fields[:20]
        )
    return result


def assistants_drift_check() -> dict[str, int]:
    """Check every pushed assistant; one failing fetch does not stop the others."""
    counts = {state: 0 for state in DriftState.values}
    counts["errors"] = 0
    for assistant in Assistant.objects.exclude(vapi_id__isnull=True).exclude(vapi_id="").iterator():
        try:
            result = assistant_drift_check(assistant=assistant)
        except VapiError as exc:
            counts["errors"] += 1
            log.warning("assistants.drift.check_failed", assistant_id=assistant.pk, error=str(exc)[:300])
            continue
        counts[result.state] += 1
    return counts
