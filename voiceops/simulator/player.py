"""Playing one call's life: the server messages Vapi would send, in Vapi's order and timing.

Outbound: ``status-update`` queued → ringing → in-progress, then the caller scenario's
turns (speech-update, transcript finals, conversation-update, tool-calls answered by
voiceops and put back into the conversation as ``tool_call_result``, ``hang`` when the
answer is slow), then ``status-update`` ended and, after the post-call analysis delay,
``end-of-call-report``. Busy/no-answer/failed calls end without connecting; voicemail
connects and leaves the assistant's voicemail message. Inbound starts with
``assistant-request`` when the number has no assistant.

Time: scenario seconds are divided by the time factor before sleeping (180 plays a
3-minute call in about a second); the timestamps in payloads follow the simulated clock.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING, Any

import structlog

from voiceops.simulator.ending import Ending
from voiceops.simulator.messages import (
    Conversation,
    envelope,
    fill_variables,
    resolved_assistant,
    system_prompt,
)
from voiceops.simulator.scenarios import Scenario, base_context, render
from voiceops.simulator.speech import SpeechTurns
from voiceops.simulator.store import iso
from voiceops.simulator.tools import ToolTurns
from voiceops.simulator.transfers import TransferTurns
from voiceops.vapi.voicemail import voicemail_detection_requested

if TYPE_CHECKING:
    from voiceops.simulator.runner import Simulator

log = structlog.get_logger(__name__)
JSON = dict[str, Any]
DEFAULT_SERVER_MESSAGES = frozenset(
    {
        "conversation-update",
        "end-of-call-report",
        "function-call",
        "hang",
        "speech-update",
        "status-update",
        "tool-calls",
        "transfer-destination-request",
        "handoff-destination-request",
        "user-interrupted",
        "assistant.started",
    }
)
ALWAYS_SENT = frozenset({"assistant-request", "tool-calls"})
BLOCKING = frozenset({"assistant-request", "tool-calls"})
RING_SECONDS = 5.0
MACHINE_GREETING = "Hi, you've reached my voicemail. Please leave a message after the tone."


class CallCancelled(Exception):
    """The call was deleted through the API while it played."""


class CallPlayer(SpeechTurns, ToolTurns, TransferTurns, Ending):
    """Plays one call in its own thread; ``done`` is set when its last message has been sent."""

    def __init__(
        self,
        sim: Simulator,
        call_id: str,
        *,
        outcome: str = "answered",
        ended_reason: str = "",
        scenario: Scenario | None = None,
        scenario_vars: JSON | None = None,
    ) -> None:
        self.sim = sim
        self.call_id = call_id
        self.outcome = outcome
        self.ended_reason = ended_reason
        self.scenario = scenario
        self.scenario_vars = scenario_vars or {}
        self.cancelled = threading.Event()
        self.controls: list[JSON] = []  # say / transfer from the control URL, played at the next turn
        self.control_end = False
        self.ending = False
        self.done = threading.Event()
        self.t = 0.0  # simulated seconds since the call was created
        self.t_connected: float | None = None
        self.turn = 0
        self.buffer: list[JSON] = []
        self.tool_calls: list[JSON] = []
        self.transfers: list[JSON] = []
        self.error = ""
        call = sim.store.get("calls", call_id) or {}
        self.created = dt.datetime.now(dt.UTC)
        self.conversation = Conversation(start_ms=self._ms(0))
        self.customer: JSON = dict(call.get("customer") or {})
        self.variables: JSON = dict((call.get("assistantOverrides") or {}).get("variableValues") or {})
        self.variables.update((self.customer.get("assistantOverrides") or {}).get("variableValues") or {})
        self.assistant: JSON = {}
        self.phone_number: JSON | None = None
        self.context: JSON = {}

    # --- clock -------------------------------------------------------------------------------
    def _ms(self, t: float) -> int:
        return int((self.created.timestamp() + t) * 1000)

    def _iso(self, t: float) -> str:
        return iso(self.created + dt.timedelta(seconds=t))

    def sleep(self, seconds: float) -> None:
        self.t += seconds
        if self.cancelled.wait(seconds / self.sim.config.time_factor):
            raise CallCancelled()

    def liquid_vars(self) -> JSON:
        """variableValues plus Vapi's built-in ``{{customer.number}}``, ``{{now}}``, ``{{date}}``..."""
        now = self.created + dt.timedelta(seconds=self.t)
        return {
            "customer": self.customer,
            "now": now.strftime("%b %d, %Y %I:%M %p UTC"),
            "date": now.strftime("%b %d, %Y"),
            "time": now.strftime("%I:%M %p"),
            "year": str(now.year),
            **self.variables,
        }

    def since_connected(self) -> float:
        return max(self.t - (self.t_connected or self.t), 0.0)

    # --- routing -----------------------------------------------------------------------------
    def resolve(self) -> None:
        """Re-read the assistant and phone number now, as Vapi does at dial time."""
        call = self.snapshot()
        stored = (
            self.sim.store.get("assistants", call.get("assistantId", "")) if call.get("assistantId") else None
        )
        base = call.get("assistant") if isinstance(call.get("assistant"), dict) else stored
        self.assistant = resolved_assistant(base, call.get("assistantOverrides"))
        phone_id = call.get("phoneNumberId")
        self.phone_number = (
            self.sim.store.get("phone_numbers", phone_id) if phone_id else call.get("phoneNumber")
        )
        self.context = base_context(
            now=self.created,
            rng=self.sim.rng_for(self.call_id),
            customer=self.customer,
            variables=self.variables,
            assistant=self.assistant,
            scenario_vars={**(self.scenario.vars if self.scenario else {}), **self.scenario_vars},
        )

    def server(self) -> JSON:
        """assistant.server → phoneNumber.server → the simulator's default (CONTRACT §1)."""
        for owner in (self.assistant, self.phone_number or {}):
            server = owner.get("server")
            if isinstance(server, dict) and server.get("url"):
                return server
            if owner.get("serverUrl"):
                return {"url": owner["serverUrl"], "secret": owner.get("serverUrlSecret")}
        return {"url": self.sim.config.server_url} if self.sim.config.server_url else {}

    def subscribed(self, kind: str) -> bool:
        if kind in ALWAYS_SENT:
            return True
        wanted = self.assistant.get("serverMessages")
        wanted = DEFAULT_SERVER_MESSAGES if wanted is None else set(wanted)
        if kind == "transcript":
            return "transcript" in wanted or 'transcript[transcriptType="final"]' in wanted
        return kind in wanted

    def snapshot(self) -> JSON:
        call = self.sim.store.get("calls", self.call_id)
        if call is None:
            raise CallCancelled()
        return call

    # --- sending -----------------------------------------------------------------------------
    def message(self, kind: str, fields: JSON | None = None, *, artifact: bool = True) -> JSON:
        return envelope(
            kind=kind,
            timestamp=self._ms(self.t),
            fields=fields,
            conversation=self.conversation if artifact else None,
            call=self.snapshot(),
            assistant=self.assistant or None,
            customer=self.customer or None,
            phone_number=self.phone_number,
        )

    def send(
        self, kind: str, fields: JSON | None = None, *, server: JSON | None = None, artifact: bool = True
    ) -> Any:
        """Informational messages go out in order (or buffered and shuffled); blocking ones answer."""
        if not self.subscribed(kind):
            return None
        message = self.message(kind, fields, artifact=artifact)
        if kind in BLOCKING:
            self.flush()
            return self.deliver(message, server=server or self.server())
        if self.sim.deliverer.faults.shuffle:
            self.buffer.append(message)
            if len(self.buffer) >= 4:
                self.flush()
            return None
        self.deliver(message, server=server or self.server())
        return None

    def flush(self) -> None:
        pending, self.buffer = self.buffer, []
        for message in self.sim.deliverer.shuffled(pending):
            self.deliver(message, server=self.server())

    def deliver(self, message: JSON, *, server: JSON) -> Any:
        if not server.get("url"):
            return None
        kind = message["type"]
        timeout = 7.5 if kind == "assistant-request" else float(server.get("timeoutSeconds") or 20)
        credential = (
            self.sim.store.get("credentials", server["credentialId"]) if server.get("credentialId") else None
        )
        args = {
            "call_id": self.call_id,
            "message": message,
            "url": server["url"],
            "server": server,
            "credential": credential,
            "default_secret": self.sim.config.secret,
            "timeout": timeout,
        }
        delivery = self.sim.deliverer.post(**args)
        if self.sim.deliverer.chance(self.sim.deliverer.faults.duplicate_rate):
            self.sim.deliverer.post(**args, duplicate=True)
        return delivery

    # --- the call ----------------------------------------------------------------------------
    def control(self, body: JSON) -> None:
        """From the control URL: end-call interrupts at once; say and transfer wait for the turn."""
        if body.get("type") == "end-call":
            self.control_end = True
            self.cancelled.set()
        else:
            self.controls.append(body)

    def play_controls(self) -> bool:
        """Play queued say/transfer controls; True when one ended the call."""
        while self.controls:
            body = self.controls.pop(0)
            if body.get("type") == "say":
                self.bot(str(body["content"]))
            elif body.get("type") == "transfer":
                if body.get("content"):
                    self.bot(str(body["content"]))
                if self.forward(dict(body["destination"])):
                    return True
        return False

    def run(self) -> None:
        try:
            self.resolve()
            try:
                self.play()
            except CallCancelled:
                if not self.control_end:
                    raise
                # Ended through the control URL (assumed reason: Vapi does not document it).
                self.cancelled.clear()
                self.end("assistant-ended-call")
        except CallCancelled:
            self.finish_cancelled()
        except Exception as exc:  # noqa: BLE001 - a broken player must not kill the simulator
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("simulator.player.crashed", call_id=self.call_id)
        finally:
            self.done.set()

    def play(self) -> None:
        call = self.snapshot()
        if call.get("status") == "scheduled":
            self.wait_for_schedule(call)
        if call.get("type") == "inboundPhoneCall":
            self.status("ringing")
        else:
            self.status("queued")
            if self.sim.over_concurrency(self.call_id):
                self.end("call.start.error-subscription-concurrency-limit-reached")
                return
            if self.outcome == "failed":
                self.sleep(0.5)
                self.end(self.ended_reason or "twilio-failed-to-connect-call")
                return
            self.sleep(1.0)
            self.status("ringing")
            self.sleep(RING_SECONDS if self.outcome != "no-answer" else 30.0)
            if self.outcome in ("busy", "no-answer"):
                self.end(self.ended_reason or DEFAULT_REASON[self.outcome])
                return
        self.connect()
        if self.outcome == "voicemail":
            self.answering_machine()
            return
        self.converse()

    def answering_machine(self) -> None:
        """A machine answers. Vapi tells it apart only when the assistant asked for detection
        (``voicemailDetection``, off by default); otherwise the assistant talks to the greeting,
        the machine records, then hangs up: a short call that ends like any other."""
        if voicemail_detection_requested(self.assistant.get("voicemailDetection")):
            self.sleep(3.0)
            self.bot(self.context["voicemailMessage"])
            self.end(self.ended_reason or "voicemail")
            return
        self.user(MACHINE_GREETING)
        self.bot(self.context["firstMessage"])
        self.sleep(2.0)
        self.end("customer-ended-call")

    def wait_for_schedule(self, call: JSON) -> None:
        from voiceops.simulator.store import parse_iso

        earliest = parse_iso((call.get("schedulePlan") or {}).get("earliestAt"))
        if earliest is not None:
            delay = (earliest - dt.datetime.now(dt.UTC)).total_seconds()
            if delay > 0 and self.cancelled.wait(delay / self.sim.config.time_factor):
                raise CallCancelled()
        self.created = dt.datetime.now(dt.UTC)
        self.conversation.start_ms = self._ms(0)
        self.sim.store.call_patch(self.call_id, status="queued")

    def connect(self) -> None:
        self.t_connected = self.t
        self.conversation.start_ms = self._ms(self.t)
        self.sim.store.call_patch(self.call_id, startedAt=self._iso(self.t))
        prompt = fill_variables(system_prompt(self.assistant), self.liquid_vars())
        self.conversation.system(prompt)
        self.status("in-progress")

    def converse(self) -> None:
        scenario = self.scenario
        if scenario is None:
            self.end("customer-ended-call")
            return
        for turn in scenario.turns:
            if self.play_controls():
                return
            if "bot" in turn:
                self.bot(str(render(turn["bot"], self.context)), cut=turn.get("cut"))
            elif "user" in turn:
                self.user(str(render(turn["user"], self.context)), interrupt=bool(turn.get("interrupt")))
            elif "tool" in turn:
                self.tool(str(turn["tool"]), render(turn.get("args") or {}, self.context))
            elif "transfer" in turn:
                if self.transfer():
                    return
            elif "pause" in turn:
                self.sleep(float(turn["pause"]))
            elif "hangup" in turn:
                who = turn["hangup"]
                reason = scenario.ended_reason if who == "customer" else "assistant-said-end-call-phrase"
                if who == "customer" and scenario.ended_reason == "assistant-said-end-call-phrase":
                    reason = "customer-ended-call"
                self.end(reason)
                return
        self.end(scenario.ended_reason)

    def status(self, value: str, **extra: Any) -> None:
        self.sim.store.call_patch(self.call_id, status=value, **extra)
        self.send("status-update", {"status": value, **extra})


DEFAULT_REASON = {
    "busy": "customer-busy",
    "no-answer": "customer-did-not-answer",
    "voicemail": "voicemail",
    "failed": "twilio-failed-to-connect-call",
}
