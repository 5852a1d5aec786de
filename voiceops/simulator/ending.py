"""The end of a call: ``status-update`` ended, then the ``end-of-call-report`` after analysis.

The report carries what the fixtures show: messages, artifact (transcript, recording URLs),
costs and cost breakdown, analysis (summary, structured data, success evaluation as a
string), startedAt/endedAt and the legacy top-level copies. ``GET /call/{id}`` is updated
with the same data, so reconciliation finds it when the report is lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from voiceops.simulator.analysis import scenario_analysis
from voiceops.simulator.messages import costs_for, envelope, recording_urls
from voiceops.simulator.scenarios import render

if TYPE_CHECKING:
    from typing import Protocol

    from voiceops.simulator.messages import Conversation
    from voiceops.simulator.runner import Simulator
    from voiceops.simulator.scenarios import Scenario

    class _Player(Protocol):
        """What Ending needs from its host class (CallPlayer)."""

        sim: Simulator
        call_id: str
        assistant: dict[str, Any]
        customer: dict[str, Any]
        phone_number: dict[str, Any] | None
        context: dict[str, Any]
        conversation: Conversation
        scenario: Scenario | None
        t: float
        t_connected: float | None
        transfers: list[dict[str, Any]]
        ending: bool
        tool_calls: list[dict[str, Any]]

        def _ms(self, t: float) -> int: ...
        def _iso(self, t: float) -> str: ...
        def sleep(self, seconds: float) -> None: ...
        def status(self, value: str, **extra: Any) -> None: ...
        def snapshot(self) -> dict[str, Any]: ...
        def server(self) -> dict[str, Any]: ...
        def send(
            self,
            kind: str,
            fields: dict[str, Any] | None = None,
            *,
            server: dict[str, Any] | None = None,
            artifact: bool = True,
        ) -> Any: ...
        def flush(self) -> None: ...
        def deliver(self, message: dict[str, Any], *, server: dict[str, Any]) -> Any: ...
        def report(self, *, reason: str, ended_at: str, connected: bool) -> dict[str, Any]: ...


log = structlog.get_logger(__name__)
JSON = dict[str, Any]
ANALYSIS_SECONDS = 6.0


class Ending:
    """Mixed into CallPlayer."""

    def end(self: _Player, reason: str) -> None:
        connected = self.t_connected is not None
        self.ending = True
        ended_at = self._iso(self.t)
        self.sim.store.call_patch(self.call_id, endedReason=reason, endedAt=ended_at)
        self.status("ended", endedReason=reason)
        self.sleep(ANALYSIS_SECONDS if connected else 1.0)
        report = self.report(reason=reason, ended_at=ended_at, connected=connected)
        if self.sim.deliverer.chance(self.sim.deliverer.faults.drop_report_rate):
            self.sim.deliverer.record_drop(self.call_id, "end-of-call-report")
        elif self.sim.config.report_unconnected or connected:
            self.send("end-of-call-report", report, artifact=False)
        self.flush()

    def report(self: _Player, *, reason: str, ended_at: str, connected: bool) -> JSON:
        seconds = round((self.t - ANALYSIS_SECONDS - (self.t_connected or 0)), 3) if connected else 0.0
        call = self.snapshot()
        analysed = connected and self.conversation.spoken_count() >= 2
        artifact: JSON = (
            self.conversation.artifact() if connected else {"messages": [], "messagesOpenAIFormatted": []}
        )
        analysis: JSON = {}
        if analysed and self.scenario is not None:
            template, extra = scenario_analysis(
                analysis=self.scenario.analysis,
                analysis_failed=self.scenario.analysis_failed,
                goal=self.scenario.goal,
                tool_calls=self.tool_calls,
            )
            analysis = render(dict(template), {**self.context, **extra})
        elif analysed:
            analysis = {"summary": "The assistant left a voicemail.", "successEvaluation": "false"}
        cost: float = 0.0
        costs: list[JSON] = []
        breakdown: JSON = {}
        if connected:
            cost, costs, breakdown = costs_for(
                call=call,
                assistant=self.assistant,
                conversation=self.conversation,
                seconds=seconds,
                analysed=analysed,
            )
            artifact.update(recording_urls(self.sim.base_url, self.call_id))
            if self.transfers:
                artifact["transfers"] = list(self.transfers)
            artifact["performanceMetrics"] = {
                "turnLatencyAverage": 1184.5,
                "modelLatencyAverage": 512.3,
                "voiceLatencyAverage": 301.7,
                "transcriberLatencyAverage": 210.4,
            }
        fields: JSON = {"endedReason": reason}
        if connected:
            fields["startedAt"] = call.get("startedAt")
        fields.update(
            {
                "endedAt": ended_at,
                "cost": cost,
                "costs": costs,
                "costBreakdown": breakdown,
                "analysis": analysis,
                "artifact": artifact,
            }
        )
        if connected:
            fields.update(
                {
                    "durationMs": int(seconds * 1000),
                    "durationSeconds": seconds,
                    "durationMinutes": round(seconds / 60, 4),
                    "summary": analysis.get("summary", ""),
                    "transcript": artifact.get("transcript", ""),
                    "messages": artifact["messages"],
                    "recordingUrl": artifact["recordingUrl"],
                    "stereoRecordingUrl": artifact["stereoRecordingUrl"],
                }
            )
        self.sim.store.call_patch(
            self.call_id,
            cost=cost,
            costs=costs,
            costBreakdown=breakdown,
            analysis=analysis,
            artifact=artifact,
            messages=artifact["messages"],
        )
        return fields

    def finish_cancelled(self: _Player) -> None:
        """Deleted mid-call: Vapi hangs up; the call is gone from the API afterwards."""
        try:
            scheduled = self.t == 0.0
            message = envelope(
                kind="status-update",
                timestamp=self._ms(self.t),
                fields={
                    "status": "ended",
                    "endedReason": "scheduled-call-deleted" if scheduled else "call-deleted",
                },
                conversation=self.conversation,
                call={"id": self.call_id, "orgId": self.sim.store.org_id, "status": "ended"},
                assistant=self.assistant or None,
                customer=self.customer or None,
                phone_number=self.phone_number,
            )
            self.deliver(message, server=self.server())
        except Exception:  # noqa: BLE001
            log.exception("simulator.player.cancel_failed", call_id=self.call_id)
