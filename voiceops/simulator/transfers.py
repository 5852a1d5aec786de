"""Transfer turns: the model calls ``transferCall``, Vapi forwards the call to a person.

As Vapi does: with destinations on the tool, one is used directly (the one whose description
or department the caller named, else the first); without any, Vapi asks the server with
``transfer-destination-request`` and uses its ``destination`` or speaks its ``error``. Then the
destination's message is spoken, ``status-update`` forwarding (with the destination) and
``transfer-update`` go out, and the call ends ``assistant-forwarded-call`` — or
``call.forwarding.operator-busy`` / ``call.forwarding.no-answer`` when the simulator is told
the person does not pick up (``transfer_outcome``). The report lists the transfer.
"""

from __future__ import annotations

from typing import Any

import structlog

log = structlog.get_logger(__name__)
JSON = dict[str, Any]
ENDED_REASON = {
    "answered": "assistant-forwarded-call",
    "operator-busy": "call.forwarding.operator-busy",
    "no-answer": "call.forwarding.no-answer",
}


class TransferTurns:
    """Mixed into CallPlayer (uses its send/deliver/bot/status/end)."""

    transfers: list[JSON]

    def transfer_tool(self: Any) -> JSON | None:
        model = self.assistant.get("model") if isinstance(self.assistant.get("model"), dict) else {}
        for tool in model.get("tools") or []:
            if isinstance(tool, dict) and tool.get("type") == "transferCall":
                return tool
        return None

    def _asked(self: Any) -> str:
        users = [m for m in self.conversation.messages if m.get("role") == "user"]
        return " ".join(str(m.get("message") or "") for m in users[-3:]).lower()

    def transfer_destination(self: Any) -> tuple[JSON | None, str]:
        """(destination, what the assistant says when there is none)."""
        tool = self.transfer_tool()
        if tool is None:
            return None, "I'm sorry, I can't transfer calls."
        destinations = [d for d in tool.get("destinations") or [] if isinstance(d, dict)]
        if destinations:
            asked = self._asked()
            for destination in destinations:
                words = [w for w in str(destination.get("description") or "").lower().split() if len(w) > 3]
                if any(w in asked for w in words):
                    return destination, ""
            return destinations[0], ""
        if not self.subscribed("transfer-destination-request"):
            return None, "I'm sorry, I can't transfer you right now."
        self.flush()
        delivery = self.deliver(self.message("transfer-destination-request"), server=self.server())
        body = getattr(delivery, "response", None)
        if getattr(delivery, "status", None) == 200 and isinstance(body, dict):
            if isinstance(body.get("destination"), dict) and body["destination"].get("type"):
                return body["destination"], ""
            if isinstance(body.get("error"), str) and body["error"]:
                return None, body["error"]
        return None, "I'm sorry, I can't transfer you right now."

    def transfer(self: Any) -> bool:
        """Play one transfer; True when the call ended (forwarded), False when it goes on."""
        destination, refusal = self.transfer_destination()
        if destination is None:
            self.bot(refusal)
            return False
        return self.forward(destination)

    def forward(self: Any, destination: JSON) -> bool:
        """Forward the call to ``destination`` (from the tool, our answer or the control URL)."""
        message = destination.get("message")
        text = message.get("content") if isinstance(message, dict) else message
        if text:
            self.bot(str(text))
        self.status("forwarding", destination=destination)
        outcome = self.sim.config.transfer_outcome
        reason = ENDED_REASON.get(outcome, ENDED_REASON["answered"])
        status = "completed" if outcome == "answered" else outcome
        self.send("transfer-update", {"destination": destination})
        self.transfers.append({"destination": destination, "status": status, "type": destination.get("type")})
        self.sleep(2.0)
        self.end(reason)
        return True
