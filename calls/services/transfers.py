"""Recording transfers of a call: forwarding status updates, transfer-update messages, the
report's transfers and our own answers to transfer-destination-request. Idempotent by key."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from calls.models import Call, CallTransfer
from calls.models.transfers import TransferSource


def destination_label(destination: Any) -> str:
    """A short label for people: the number, the SIP URI or the assistant's name."""
    if not isinstance(destination, dict):
        return ""
    for key in ("number", "sipUri", "assistantName", "assistantId"):
        value = destination.get(key)
        if isinstance(value, str) and value:
            kind = destination.get("type") or ""
            return f"{kind} {value}".strip()[:300]
    return str(destination.get("type") or "")[:300]


def call_transfer_record(
    *, call: Call, source: str, destination: Any, detail: str = "", at: dt.datetime | None = None
) -> CallTransfer | None:
    """Store one reported transfer; the same report again (a redelivery) changes nothing."""
    if source not in TransferSource.values:
        return None
    safe = destination if isinstance(destination, dict) else {}
    digest = hashlib.sha256(
        json.dumps(
            [source, safe, detail[:500], at.isoformat() if at else ""], sort_keys=True, default=str
        ).encode()
    ).hexdigest()
    transfer, _ = CallTransfer.objects.get_or_create(
        call=call,
        key=digest,
        defaults={
            "source": source,
            "destination": safe,
            "destination_label": destination_label(safe),
            "detail": detail[:500],
            "at": at,
        },
    )
    return transfer


def report_transfers_apply(*, call: Call, report: dict[str, Any], at: dt.datetime | None) -> None:
    """The end-of-call report's ``artifact.transfers`` (and the legacy top-level list)."""
    raw = report.get("artifact")
    artifact: dict[str, Any] = raw if isinstance(raw, dict) else {}
    items = artifact.get("transfers") or report.get("transfers") or []
    if not isinstance(items, list):
        return
    for item in items[:50]:
        if isinstance(item, dict):
            destination = item.get("destination") if isinstance(item.get("destination"), dict) else item
            detail = str(item.get("status") or item.get("type") or "")
            call_transfer_record(
                call=call, source=TransferSource.REPORT, destination=destination, detail=detail, at=at
            )
        elif isinstance(item, str) and item:
            call_transfer_record(call=call, source=TransferSource.REPORT, destination={"number": item}, at=at)
