"""The call page's report section: what the end-of-call report brings, as tables, not JSON."""

from __future__ import annotations

import json
from typing import Any

from calls.models import Call
from voiceops.console.redaction import mask_known_secrets, redact

METRIC_LABELS = {
    "turnLatencyAverage": "Turn latency (avg)",
    "modelLatencyAverage": "Model latency (avg)",
    "voiceLatencyAverage": "Voice latency (avg)",
    "transcriberLatencyAverage": "Transcriber latency (avg)",
    "endpointingLatencyAverage": "Endpointing latency (avg)",
    "fromTransportLatencyAverage": "From transport latency (avg)",
    "toTransportLatencyAverage": "To transport latency (avg)",
    "numUserInterrupted": "Times the caller interrupted",
    "numAssistantInterrupted": "Times the assistant interrupted",
}


def humanize_key(key: str) -> str:
    """``issue_resolved`` / ``wantsHuman`` -> ``Issue resolved`` / ``Wants human``."""
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in str(key)).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:]


def display_value(value: Any) -> str:
    """A cell: yes/no for booleans, plain text for scalars, compact JSON only for leftovers."""
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if value is None or value == "":
        return "—"
    if isinstance(value, str | int | float):
        return mask_known_secrets(str(value))
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return mask_known_secrets(json.dumps(redact(value), ensure_ascii=False, default=str))


def data_rows(data: Any, *, prefix: str = "") -> list[tuple[str, str]]:
    """A dict as (label, value) rows; nested dicts flatten to "Parent › child" labels."""
    if not isinstance(data, dict):
        return [] if data in (None, "", [], {}) else [(prefix or "Value", display_value(data))]
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        label = f"{prefix} › {humanize_key(key)}" if prefix else humanize_key(key)
        if isinstance(value, dict) and value:
            rows += data_rows(value, prefix=label)
        else:
            rows.append((label, display_value(value)))
    return rows


def structured_output_rows(outputs: Any) -> list[tuple[str, str]]:
    """artifact.structuredOutputs is ``{id: {name, result}}``: one row per output, by name."""
    rows: list[tuple[str, str]] = []
    for output_id, item in (outputs or {}).items() if isinstance(outputs, dict) else ():
        if isinstance(item, dict) and "result" in item:
            name = humanize_key(item.get("name") or output_id)
            result = item["result"]
            if isinstance(result, dict):
                rows += data_rows(result, prefix=name)
            else:
                rows.append((name, display_value(result)))
        else:
            rows.append((humanize_key(output_id), display_value(item)))
    return rows


def metric_rows(metrics: Any) -> list[tuple[str, str]]:
    """Latencies in ms (rounded), interruption counts; the per-turn list is summarised."""
    rows: list[tuple[str, str]] = []
    for key, value in (metrics or {}).items() if isinstance(metrics, dict) else ():
        if key == "turnLatencies":
            count = len(value) if isinstance(value, list) else 0
            rows.append(("Turns measured", str(count)))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            unit = "" if key.startswith("num") else " ms"
            rows.append((METRIC_LABELS.get(key, humanize_key(key)), f"{value:,.0f}{unit}"))
    return rows


def transfer_rows(transfers: Any) -> list[dict[str, str]]:
    rows = []
    for item in transfers if isinstance(transfers, list) else ():
        if not isinstance(item, dict):
            continue
        raw = item.get("destination")
        destination: dict[str, Any] = raw if isinstance(raw, dict) else {}
        target = destination.get("number") or destination.get("sipUri") or destination.get("assistantName")
        rows.append(
            {
                "destination": display_value(target or destination.get("type")),
                "mode": display_value(item.get("mode")),
                "status": display_value(item.get("status")),
            }
        )
    return rows


def call_report(*, call: Call) -> dict[str, Any]:
    """Everything the call page shows from the report, shaped for the template."""
    links = [
        (label, url)
        for label, url in (
            ("Recording", call.recording_url),
            ("Stereo recording", call.stereo_recording_url),
            ("Video", call.video_recording_url),
            ("Call log", call.log_url),
            ("Packet capture (pcap)", call.pcap_url),
        )
        if url
    ]
    return {
        "structured_data": data_rows(call.structured_data),
        "structured_outputs": structured_output_rows(call.structured_outputs),
        "scorecards": data_rows(call.scorecards),
        "metrics": metric_rows(call.performance_metrics),
        "transfers": transfer_rows(call.report_transfers),
        "variables": data_rows(call.variable_values),
        "links": links,
        "success": success_label(call.success_evaluation),
    }


def success_label(value: str) -> str:
    """Vapi sends the rubric's answer as a string ("true", "8", "PASS")."""
    lowered = (value or "").strip().lower()
    if not lowered:
        return "Not evaluated"
    if lowered in ("true", "pass", "passed", "yes"):
        return "Successful"
    if lowered in ("false", "fail", "failed", "no"):
        return "Not successful"
    return value
