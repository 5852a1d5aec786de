"""Inbound calls: ``assistant-request`` first when the number has no assistant (CONTRACT §4.1).

The answer picks the assistant (``assistantId`` or a transient ``assistant``), forwards the
call (``destination``) or rejects it (``error``); a slow, failed or empty answer ends the
call with the ``assistant-request-*`` reason Vapi would report. Then the usual lifecycle
plays with whichever assistant voiceops chose.
"""

from __future__ import annotations

from typing import Any

from voiceops.simulator.messages import resolved_assistant
from voiceops.simulator.player import CallPlayer

JSON = dict[str, Any]


class InboundPlayer(CallPlayer):
    def play(self) -> None:
        call = self.snapshot()
        phone = self.phone_number or {}
        if not (phone.get("assistantId") or phone.get("squadId") or phone.get("workflowId")):
            # No assistant yet, so nothing is subscribed: assistant-request is the first message.
            if not self.ask_for_assistant(call):
                return
        else:
            self.status("ringing")
        self.resolve_assistant_only()
        self.sleep(1.0)
        self.connect()
        self.converse()

    def resolve_assistant_only(self) -> None:
        """Keep the context (scenario vars, seeded slot) but re-read the assistant just chosen."""
        call = self.snapshot()
        stored = (
            self.sim.store.get("assistants", call.get("assistantId", "")) if call.get("assistantId") else None
        )
        base = call.get("assistant") if isinstance(call.get("assistant"), dict) else stored
        self.assistant = resolved_assistant(base, call.get("assistantOverrides"))
        for key, value in self.variables.items():
            self.context[f"var:{key}"] = value
        for key in ("firstMessage", "endCallMessage", "voicemailMessage"):
            if self.assistant.get(key):
                self.context[key] = str(self.assistant[key])

    def ask_for_assistant(self, call: JSON) -> bool:
        """Send assistant-request; True when the call continues with an assistant."""
        server = self.server()
        if not server.get("url"):
            self.end("call-start-error-neither-assistant-nor-server-set")
            return False
        delivery = self.send("assistant-request", {}, artifact=False)
        body = getattr(delivery, "response", None)
        status = getattr(delivery, "status", None)
        if status is None or not 200 <= status < 300 or not isinstance(body, dict):
            self.end("assistant-request-failed")
            return False
        if isinstance(body.get("error"), str) and body["error"]:
            self.end("assistant-request-returned-error")
            return False
        destination = body.get("destination")
        if isinstance(destination, dict):
            self.status("forwarding", destination=destination)
            self.end("assistant-forwarded-call")
            return False
        overrides = (
            body.get("assistantOverrides") if isinstance(body.get("assistantOverrides"), dict) else None
        )
        if isinstance(body.get("assistantId"), str) and body["assistantId"]:
            if self.sim.store.get("assistants", body["assistantId"]) is None:
                self.end("assistant-request-returned-invalid-assistant")
                return False
            changes: JSON = {"assistantId": body["assistantId"]}
        elif isinstance(body.get("assistant"), dict):
            changes = {"assistant": body["assistant"]}
        else:
            self.end("assistant-request-returned-no-assistant")
            return False
        if overrides:
            changes["assistantOverrides"] = overrides
            self.variables.update(overrides.get("variableValues") or {})
        self.sim.store.call_patch(self.call_id, **changes)
        return True
