"""Tool turns of a call: the model calls a function tool, voiceops answers, the answer joins the history.

As Vapi does: ``tool-calls`` goes to the tool's own server (else the assistant's), Vapi waits
up to ``timeoutSeconds``, sends ``hang`` while it waits too long, and puts the returned
``result`` (or ``error``) into the conversation as a ``tool_call_result``. Without a usable
answer the history says "No result returned." (CONTRACT §4.2, pitfalls 2-3).
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import time
from typing import TYPE_CHECKING, Any

import structlog

from voiceops.simulator.analysis import answer_failed
from voiceops.simulator.scenarios import fill_arguments

if TYPE_CHECKING:
    from typing import Protocol

    from voiceops.simulator.messages import Conversation
    from voiceops.simulator.runner import Simulator

    class _Player(Protocol):
        """What ToolTurns needs from its host class (CallPlayer)."""

        sim: Simulator
        call_id: str
        assistant: dict[str, Any]
        context: dict[str, Any]
        conversation: Conversation
        tool_calls: list[dict[str, Any]]
        t: float

        def send(
            self,
            kind: str,
            fields: dict[str, Any] | None = None,
            *,
            server: dict[str, Any] | None = None,
            artifact: bool = True,
        ) -> Any: ...
        def since_connected(self) -> float: ...
        def history_fields(self) -> dict[str, Any]: ...
        def find_tool(self, name: str) -> dict[str, Any] | None: ...
        def tool_answer(self, delivery: Any, call_id: str) -> tuple[str, str]: ...
        def _hang_watch(self, answered: threading.Event) -> None: ...


log = structlog.get_logger(__name__)
JSON = dict[str, Any]
# "The confirmation code is K 7 Q X 2 M." (tools.speech.spelled_code) -> K7QX2M
CONFIRMATION_CODE = re.compile(r"confirmation code is ((?:[A-Z0-9] ?){4,12})")


def tool_call_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "call_" + "".join(secrets.choice(alphabet) for _ in range(24))


class ToolTurns:
    """Mixed into CallPlayer."""

    def find_tool(self: _Player, name: str) -> JSON | None:
        """The assistant's definition of a function tool: inline ``model.tools`` or ``model.toolIds``."""
        raw_model = self.assistant.get("model")
        model: JSON = raw_model if isinstance(raw_model, dict) else {}
        candidates = [t for t in (model.get("tools") or []) if isinstance(t, dict)]
        for tool_id in model.get("toolIds") or []:
            stored = self.sim.store.get("tools", str(tool_id))
            if stored:
                candidates.append(stored)
        for tool in candidates:
            raw_function = tool.get("function")
            function: JSON = raw_function if isinstance(raw_function, dict) else {}
            if tool.get("type", "function") == "function" and function.get("name") == name:
                return {k: v for k, v in tool.items() if k not in ("id", "orgId", "createdAt", "updatedAt")}
        return None

    def tool(self: _Player, name: str, hints: JSON) -> None:
        definition = self.find_tool(name)
        if definition is None:
            log.info("simulator.tool.missing", call_id=self.call_id, tool=name)
            self.tool_calls.append({"name": name, "result": "", "failed": True, "missing": True})
            self.context["result"] = "I'm sorry, I can't help with that on this call."
            return
        arguments = fill_arguments(hints, (definition.get("function") or {}).get("parameters"))
        call: JSON = {
            "id": tool_call_id(),
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        self.conversation.tool_calls([call], self.since_connected())
        self.send("conversation-update", self.history_fields())
        server = (
            definition.get("server") if isinstance((definition.get("server") or {}).get("url"), str) else None
        )
        fields = {"toolCallList": [call], "toolWithToolCallList": [{**definition, "toolCall": call}]}
        answered = threading.Event()
        hang = threading.Thread(target=self._hang_watch, args=(answered,), daemon=True)
        hang.start()
        started = time.monotonic()
        try:
            delivery = self.send("tool-calls", fields, server=server)
        finally:
            answered.set()
        waited = time.monotonic() - started
        self.t += waited
        text, spoken = self.tool_answer(delivery, call["id"])
        self.conversation.tool_result(
            tool_call_id=call["id"], name=name, result=text, start=self.since_connected()
        )
        self.tool_calls.append(
            {
                "id": call["id"],
                "name": name,
                "arguments": arguments,
                "result": text,
                "failed": answer_failed(delivery, call["id"]),
                "status": getattr(delivery, "status", None),
                "waited_ms": round(waited * 1000, 1),
            }
        )
        self.context["result"] = spoken
        if code := CONFIRMATION_CODE.search(text or ""):
            # What a model keeps from the answer it just read out, for a later tool call.
            self.context["confirmation_code"] = code.group(1).replace(" ", "")
        self.send("conversation-update", self.history_fields())

    def _hang_watch(self: _Player, answered: threading.Event) -> None:
        if not answered.wait(self.sim.config.hang_after):
            self.send("hang")

    @staticmethod
    def tool_answer(delivery: Any, call_id: str) -> tuple[str, str]:
        """(history text, what the assistant says) from voiceops's answer; Vapi's fallback otherwise."""
        body = getattr(delivery, "response", None)
        status = getattr(delivery, "status", None)
        if status == 200 and isinstance(body, dict) and isinstance(body.get("results"), list):
            for item in body["results"]:
                if isinstance(item, dict) and item.get("toolCallId") == call_id:
                    text = item.get("result") if item.get("result") is not None else item.get("error")
                    text = text if isinstance(text, str) else "No result returned."
                    message = item.get("message")
                    spoken = (
                        message.get("content")
                        if isinstance(message, dict) and message.get("content")
                        else text
                    )
                    return text, str(spoken)
        return "No result returned.", "Sorry, I couldn't complete that just now."
