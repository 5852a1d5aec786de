"""Live call control: end a call, say a sentence into it, transfer it — through the call's
``monitor.controlUrl`` (CONTRACT pitfall 20). Every attempt is a CallControl row (who, when,
what, and whether Vapi took it), so the call's record says who ended it and why.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import structlog
from django.conf import settings

from calls.enums import CallStatus
from calls.models import Call, CallControl
from calls.models.control import ControlAction, ControlState
from voiceops.errors import DomainError, InvalidState
from voiceops.vapi.client import VapiError, get_client

log = structlog.get_logger(__name__)

LIVE = frozenset({CallStatus.QUEUED, CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.FORWARDING})
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SIP = re.compile(r"^sips?:[^@\s]+@[^\s]+$")
MAX_SAY = 1000


def _monitor(call: Call) -> dict[str, Any]:
    monitor = (call.vapi_call or {}).get("monitor") if isinstance(call.vapi_call, dict) else None
    return monitor if isinstance(monitor, dict) else {}


def call_listen_url(*, call: Call) -> str:
    """The websocket of the call's audio, when Vapi gave one (ours to link, not to proxy)."""
    url = _monitor(call).get("listenUrl")
    return url if isinstance(url, str) and url.startswith(("ws://", "wss://")) else ""


def _trusted(url: str) -> bool:
    """Only Vapi's own call hosts (or the configured VAPI_BASE_URL host, e.g. the simulator):
    a control URL is taken from call data, and we never POST to wherever that data points."""
    parts = urlsplit(url)
    base = urlsplit(settings.VAPI_BASE_URL)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and (host == "vapi.ai" or host.endswith(".vapi.ai")):
        return True
    return parts.scheme in ("http", "https") and (parts.hostname, parts.port) == (base.hostname, base.port)


def call_control_url(*, call: Call) -> str:
    """The control URL from the stored call object; fetched from Vapi once when missing."""
    url = _monitor(call).get("controlUrl")
    if not isinstance(url, str) or not url:
        fetched = get_client().call_get(call.vapi_id)
        monitor = fetched.get("monitor") if isinstance(fetched, dict) else None
        url = monitor.get("controlUrl") if isinstance(monitor, dict) else None
        if isinstance(url, str) and url:
            snapshot = dict(call.vapi_call or {})
            snapshot["monitor"] = monitor
            Call.objects.filter(pk=call.pk).update(vapi_call=snapshot)
            call.vapi_call = snapshot
    if not isinstance(url, str) or not url:
        raise InvalidState("Vapi gave no control URL for this call.")
    if not _trusted(url):
        raise InvalidState("The call's control URL is not on a Vapi host; refusing to send to it.")
    return url


def _payload(*, action: str, content: str, destination: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(body for Vapi, destination object) after checking the inputs."""
    if action == ControlAction.END:
        return {"type": "end-call"}, {}
    if action == ControlAction.SAY:
        text = content.strip()
        if not text:
            raise DomainError("Say what? The sentence is empty.", fields={"content": ["Required."]})
        if len(text) > MAX_SAY:
            raise DomainError(
                "The sentence is too long.", fields={"content": [f"At most {MAX_SAY} characters."]}
            )
        return {"type": "say", "content": text, "endCallAfterSpoken": False}, {}
    if action == ControlAction.TRANSFER:
        target = destination.strip()
        if E164.match(target):
            dest: dict[str, Any] = {"type": "number", "number": target}
        elif SIP.match(target):
            dest = {"type": "sip", "sipUri": target}
        else:
            raise DomainError(
                "Transfer to where?",
                fields={
                    "destination": ["An E.164 number (+14155550123) or a SIP URI (sip:desk@example.com)."]
                },
            )
        body: dict[str, Any] = {"type": "transfer", "destination": dest}
        if content.strip():
            body["content"] = content.strip()[:MAX_SAY]
        return body, dest
    raise DomainError(
        f"Unknown action {action!r}.", fields={"action": [f"One of: {', '.join(ControlAction.values)}."]}
    )


def call_control_send(
    *, call: Call, action: str, by: str, user: Any = None, content: str = "", destination: str = ""
) -> CallControl:
    """Send one control action to a live call and record it (sent or failed) with who did it.

    Raises a DomainError for a bad request or a call that is not live (nothing recorded);
    a Vapi failure is recorded as ``failed`` with its error and returned, not raised."""
    body, dest = _payload(action=action, content=content, destination=destination)
    if call.status not in LIVE:
        raise InvalidState(f"The call is {call.status}, not live: there is nothing to {action}.")
    url = call_control_url(call=call)
    state, error = ControlState.SENT, ""
    try:
        get_client().call_control(url, body)
    except VapiError as exc:
        state, error = ControlState.FAILED, str(exc)[:1000]
    control = CallControl.objects.create(
        call=call,
        action=action,
        content=str(body.get("content") or "")[:1000],
        destination=dest,
        user=user if getattr(user, "pk", None) else None,
        by=by[:150],
        state=state,
        error=error,
    )
    log.info("call.control", call_id=call.vapi_id, action=action, state=state, by=by[:150])
    return control
