"""A whole Vapi call as webhook bodies, with fresh ids so many calls can share one database."""

from __future__ import annotations

import json
import uuid

from tests.conftest import FIXTURES

FIXTURE_CALL_ID = "0195953a-5e2c-7b41-9d8e-3f6a2c1b7e90"
FIXTURE_TOOL_CALL_IDS = ("call_Q7xW2mL9kP4rT8vN1bH6cJ3d", "call_Z3nB8vC5xM1qW7eR4tY9uI2o")
WEBHOOK_SECRET = "whsec-current-7a1d"
URL = "/webhooks/vapi/"

# One outbound call, in the order Vapi sends it.
LIFECYCLE = (
    "status-update-ringing.json",
    "status-update-in-progress.json",
    "speech-update.json",
    "transcript-partial.json",
    "transcript-final.json",
    "conversation-update.json",
    "tool-calls.json",
    "user-interrupted.json",
    "hang.json",
    "status-update-ended.json",
    "end-of-call-report.json",
)
INFORMATIONAL = tuple(name for name in LIFECYCLE if name != "tool-calls.json")


def lifecycle_bodies(
    *, call_id: str | None = None, names: tuple[str, ...] = LIFECYCLE
) -> tuple[str, list[tuple[str, bytes]]]:
    """(call id, [(fixture name, body)]) with the call id and toolCallIds made unique."""
    call_id = call_id or str(uuid.uuid4())
    suffix = uuid.uuid4().hex[:12]
    bodies = []
    for name in names:
        text = (FIXTURES / name).read_text(encoding="utf-8")
        text = text.replace(FIXTURE_CALL_ID, call_id)
        for tool_call_id in FIXTURE_TOOL_CALL_IDS:
            text = text.replace(tool_call_id, f"{tool_call_id[:10]}{suffix}")
        json.loads(text)
        bodies.append((name, text.encode("utf-8")))
    return call_id, bodies


def auth_headers() -> dict[str, str]:
    return {"X-Vapi-Secret": WEBHOOK_SECRET}
