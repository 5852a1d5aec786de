"""end-of-call-report (and a Vapi Call fetched by reconciliation): the final truth (CONTRACT §4.5).

Fields are read from ``artifact``/``analysis`` first and fall back to the legacy
top-level copies, then to the ``call`` snapshot. Applying the same report twice gives the
same row; the transcript is replaced by the report's message list.
"""

from __future__ import annotations

from typing import Any

from calls.enums import CallStatus, TurnSource
from calls.models import Call, TranscriptTurn
from calls.outcomes import outcome_for_ended_reason
from calls.services.call_status import call_status_advance
from calls.services.processors.calls import (
    as_cost,
    as_dict,
    as_list,
    as_text,
    as_url,
    call_ended_notify,
    json_safe,
    parse_iso,
)
from calls.services.processors.transcripts import turn_from_history
from tools.services.linking import tool_records_link_call


def _first(*values: Any) -> Any:
    for value in values:
        if value not in (None, "", [], {}):
            return value
    return None


def call_apply_report(*, call: Call, report: dict[str, Any], at: Any) -> list[str]:
    """Fill a locked call from an end-of-call report (or a Vapi Call object shaped like one)."""
    snapshot = as_dict(report.get("call"))
    artifact = as_dict(report.get("artifact"))
    analysis = as_dict(report.get("analysis"))
    moved = call_status_advance(call=call, status=CallStatus.ENDED)

    reason = as_text(_first(report.get("endedReason"), snapshot.get("endedReason")), max_length=200)
    outcome = outcome_for_ended_reason(reason)
    call.ended_reason = reason
    call.outcome = outcome.value if outcome else ""
    call.started_at = parse_iso(_first(report.get("startedAt"), snapshot.get("startedAt"))) or call.started_at
    call.ended_at = parse_iso(_first(report.get("endedAt"), snapshot.get("endedAt"))) or call.ended_at
    if call.started_at and call.ended_at:
        call.duration_seconds = max(0.0, (call.ended_at - call.started_at).total_seconds())
    elif isinstance(report.get("durationSeconds"), int | float) and report["durationSeconds"] >= 0:
        call.duration_seconds = float(report["durationSeconds"])
    cost = as_cost(_first(report.get("cost"), snapshot.get("cost")))
    if cost is not None:
        call.cost = cost
    breakdown = dict(as_dict(_first(report.get("costBreakdown"), snapshot.get("costBreakdown"))))
    costs = as_list(_first(report.get("costs"), snapshot.get("costs")))
    if costs:
        breakdown["costs"] = costs
    call.cost_breakdown = json_safe(breakdown)
    recording = as_dict(artifact.get("recording"))
    call.recording_url = as_url(
        _first(
            artifact.get("recordingUrl"),
            as_dict(recording.get("mono")).get("combinedUrl"),
            report.get("recordingUrl"),
        )
    )
    call.stereo_recording_url = as_url(
        _first(
            artifact.get("stereoRecordingUrl"), recording.get("stereoUrl"), report.get("stereoRecordingUrl")
        )
    )
    call.summary = as_text(_first(analysis.get("summary"), report.get("summary")))
    structured = analysis.get("structuredData")
    call.structured_data = json_safe(structured) if isinstance(structured, dict) else {}
    evaluation = analysis.get("successEvaluation")
    call.success_evaluation = "" if evaluation is None else as_text(evaluation, max_length=500)
    call.transcript_text = as_text(_first(artifact.get("transcript"), report.get("transcript")))
    call.has_final_report = True
    call_apply_report_artifacts(call=call, report=report, artifact=artifact)

    messages = as_list(_first(artifact.get("messages"), report.get("messages")))
    TranscriptTurn.objects.filter(call=call).delete()
    TranscriptTurn.objects.bulk_create(
        [
            TranscriptTurn(call=call, position=i, source=TurnSource.REPORT, **turn_from_history(item))
            for i, item in enumerate(m for m in messages if isinstance(m, dict))
        ]
    )
    call_ended_notify(call=call)
    tool_records_link_call(call=call)
    return [
        *moved,
        "ended_reason",
        "outcome",
        "started_at",
        "ended_at",
        "duration_seconds",
        "cost",
        "cost_breakdown",
        "recording_url",
        "stereo_recording_url",
        "summary",
        "structured_data",
        "success_evaluation",
        "transcript_text",
        "has_final_report",
        *REPORT_ARTIFACT_FIELDS,
    ]


REPORT_ARTIFACT_FIELDS = [
    "ended_message",
    "structured_outputs",
    "scorecards",
    "performance_metrics",
    "report_transfers",
    "variable_values",
    "video_recording_url",
    "log_url",
    "pcap_url",
]


def call_apply_report_artifacts(*, call: Call, report: dict[str, Any], artifact: dict[str, Any]) -> None:
    """Keep the rest of the artifact ops read: outputs, scorecards, latencies, transfers, links.

    A report without a field leaves what an earlier report stored (a Vapi Call fetched by
    reconciliation may carry less than the webhook did).
    """
    snapshot = as_dict(report.get("call"))
    ended_message = as_text(_first(report.get("endedMessage"), snapshot.get("endedMessage")))
    if ended_message:
        call.ended_message = ended_message
    for field, key in (
        ("structured_outputs", "structuredOutputs"),
        ("scorecards", "scorecards"),
        ("performance_metrics", "performanceMetrics"),
        ("variable_values", "variableValues"),
    ):
        value = artifact.get(key)
        if isinstance(value, dict) and value:
            setattr(call, field, json_safe(value))
    transfers = artifact.get("transfers")
    if isinstance(transfers, list) and transfers:
        call.report_transfers = json_safe([t for t in transfers if isinstance(t, dict)])
    for field, key in (
        ("video_recording_url", "videoRecordingUrl"),
        ("log_url", "logUrl"),
        ("pcap_url", "pcapUrl"),
    ):
        url = as_url(artifact.get(key))
        if url:
            setattr(call, field, url)
