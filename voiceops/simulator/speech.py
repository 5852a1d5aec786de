"""Spoken turns: speech-update, the partial and final transcripts, conversation-update.

A turn lasts SECONDS_PER_WORD per word (at least 0.8 s) on the simulated clock; the assistant
waits MODEL_LATENCY before it speaks, and TURN_GAP separates turns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voiceops.simulator.messages import fill_variables
from voiceops.simulator.tools import tool_call_id

if TYPE_CHECKING:
    from voiceops.simulator.messages import Conversation

JSON = dict[str, Any]
SECONDS_PER_WORD = 0.4
TURN_GAP = 0.8
MODEL_LATENCY = 1.2  # the assistant thinks before it speaks


class SpeechTurns:
    """Mixed into CallPlayer (uses its send/sleep/subscribed/liquid_vars/since_connected)."""

    if TYPE_CHECKING:
        assistant: JSON
        conversation: Conversation
        turn: int

        def send(
            self,
            kind: str,
            fields: JSON | None = None,
            *,
            server: JSON | None = None,
            artifact: bool = True,
        ) -> Any: ...
        def sleep(self, seconds: float) -> None: ...
        def subscribed(self, kind: str) -> bool: ...
        def liquid_vars(self) -> JSON: ...
        def since_connected(self) -> float: ...

    def speak(self, role: str, text: str, *, cut: float | None = None, interrupt: bool = False) -> None:
        text = fill_variables(text, self.liquid_vars())
        words = text.split()
        if cut:
            words = words[: max(1, int(len(words) * float(cut)))]
            text = " ".join(words)
        if not text:
            return
        duration = max(0.8, len(words) * SECONDS_PER_WORD)
        start = self.since_connected()
        vapi_role = "assistant" if role == "bot" else "user"
        if role == "bot" and self.turn > 0:
            self.sleep(MODEL_LATENCY)
        if interrupt:
            self.send("user-interrupted", {"turnId": tool_call_id()[5:]})
        self.send("speech-update", {"status": "started", "role": vapi_role, "turn": self.turn})
        if (
            role == "user"
            and self.subscribed("transcript")
            and "transcript" in (self.assistant.get("serverMessages") or [])
        ):
            self.sleep(duration / 2)
            self.send(
                "transcript",
                {
                    "role": "user",
                    "transcriptType": "partial",
                    "transcript": " ".join(words[: max(1, len(words) // 2)]),
                },
            )
            self.sleep(duration / 2)
        else:
            self.sleep(duration)
        self.conversation.spoken(role, text, start, duration)
        fields: JSON = {"role": vapi_role, "transcriptType": "final", "transcript": text}
        if role == "user":
            fields.update(
                {
                    "isFiltered": False,
                    "detectedThreats": [],
                    "confidence": 0.93,
                    "confidenceSource": "provider",
                }
            )
        self.send("transcript", fields)
        self.send("speech-update", {"status": "stopped", "role": vapi_role, "turn": self.turn})
        self.turn += 1
        self.send("conversation-update", self.history_fields())
        self.sleep(TURN_GAP)

    def bot(self, text: str, *, cut: float | None = None) -> None:
        self.speak("bot", text, cut=cut)

    def user(self, text: str, *, interrupt: bool = False) -> None:
        self.speak("user", text, interrupt=interrupt)

    def history_fields(self) -> JSON:
        return {
            "messages": [dict(m) for m in self.conversation.messages],
            "messagesOpenAIFormatted": self.conversation.openai(),
        }
