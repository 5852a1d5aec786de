"""Building Vapi server messages, in the shapes of ``tests/fixtures/vapi/*.json``.

A :class:`Conversation` holds one call's message history (roles ``system``, ``bot``,
``user``, ``tool_calls``, ``tool_call_result``) on a virtual clock, and renders it the
three ways Vapi does: ``messages``, ``messagesOpenAIFormatted`` and the ``AI:``/``User:``
transcript string. :func:`envelope` adds the fields every message carries (timestamp,
artifact so far, call snapshot, resolved assistant, customer, phone number).
"""

from __future__ import annotations

import json
import re
from typing import Any

JSON = dict[str, Any]
VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")
BOOKKEEPING = ("id", "orgId", "createdAt", "updatedAt")


def fill_variables(text: str, variables: JSON) -> str:
    """Vapi's ``{{name}}`` template variables (LiquidJS: an unknown name renders empty)."""

    def replace(match: re.Match[str]) -> str:
        value: Any = variables
        for part in match.group(1).split("."):
            if not isinstance(value, dict) or part not in value:
                return ""
            value = value[part]
        return str(value)

    return VARIABLE.sub(replace, text or "")


def resolved_assistant(assistant: JSON | None, overrides: JSON | None) -> JSON:
    """The ``assistant`` block of the envelope: the stored config with overrides applied, no ids."""
    resolved = {k: v for k, v in (assistant or {}).items() if k not in BOOKKEEPING}
    for key, value in (overrides or {}).items():
        if key != "variableValues":
            resolved[key] = value
    return resolved


def system_prompt(assistant: JSON) -> str:
    raw_model = assistant.get("model")
    model: JSON = raw_model if isinstance(raw_model, dict) else {}
    for message in model.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "system":
            return str(message.get("content", ""))
    return ""


class Conversation:
    """One call's history on a virtual clock (epoch ms at ``start_ms`` + seconds from start)."""

    def __init__(self, *, start_ms: int) -> None:
        self.start_ms = start_ms
        self.messages: list[JSON] = []

    def at(self, seconds: float) -> int:
        return self.start_ms + int(round(seconds * 1000))

    def system(self, text: str) -> None:
        if text:
            self.messages.append(
                {"role": "system", "message": text, "time": self.start_ms, "secondsFromStart": 0}
            )

    def spoken(self, role: str, text: str, start: float, duration: float) -> JSON:
        """A ``bot`` or ``user`` turn; ``duration`` in ms as real payloads carry it."""
        item: JSON = {
            "role": role,
            "message": text,
            "time": self.at(start),
            "endTime": self.at(start + duration),
            "secondsFromStart": round(start, 3),
            "duration": int(round(duration * 1000)),
        }
        if role == "bot":
            item["source"] = ""
        self.messages.append(item)
        return item

    def tool_calls(self, calls: list[JSON], start: float) -> None:
        """In histories the arguments are a JSON string (CONTRACT pitfall 1)."""
        self.messages.append(
            {
                "role": "tool_calls",
                "toolCalls": [
                    {
                        "id": c["id"],
                        "type": "function",
                        "function": {
                            "name": c["function"]["name"],
                            "arguments": json.dumps(c["function"]["arguments"]),
                        },
                    }
                    for c in calls
                ],
                "message": "",
                "time": self.at(start),
                "secondsFromStart": round(start, 3),
            }
        )

    def tool_result(self, *, tool_call_id: str, name: str, result: str, start: float) -> None:
        self.messages.append(
            {
                "role": "tool_call_result",
                "toolCallId": tool_call_id,
                "name": name,
                "result": result,
                "time": self.at(start),
                "secondsFromStart": round(start, 3),
            }
        )

    def openai(self) -> list[JSON]:
        out: list[JSON] = []
        for m in self.messages:
            role = m["role"]
            if role == "system":
                out.append({"role": "system", "content": m["message"]})
            elif role == "bot":
                out.append({"role": "assistant", "content": m["message"]})
            elif role == "user":
                out.append({"role": "user", "content": m["message"]})
            elif role == "tool_calls":
                out.append({"role": "assistant", "tool_calls": m["toolCalls"]})
            elif role == "tool_call_result":
                out.append({"role": "tool", "tool_call_id": m["toolCallId"], "content": m["result"]})
        return out

    def transcript(self) -> str:
        lines = []
        for m in self.messages:
            if m["role"] == "bot":
                lines.append(f"AI: {m['message']}\n")
            elif m["role"] == "user":
                lines.append(f"User: {m['message']}\n")
        return "".join(lines)

    def artifact(self) -> JSON:
        artifact: JSON = {
            "messages": [dict(m) for m in self.messages],
            "messagesOpenAIFormatted": self.openai(),
        }
        text = self.transcript()
        if text:
            artifact["transcript"] = text
        return artifact

    def spoken_count(self) -> int:
        return sum(1 for m in self.messages if m["role"] in ("bot", "user"))

    def bot_characters(self) -> int:
        return sum(len(m["message"]) for m in self.messages if m["role"] == "bot")


def envelope(
    *,
    kind: str,
    timestamp: int,
    fields: JSON | None,
    conversation: Conversation | None,
    call: JSON,
    assistant: JSON | None,
    customer: JSON | None,
    phone_number: JSON | None,
) -> JSON:
    """A complete message in the fixtures' key order: timestamp, type, own fields, artifact, envelope."""
    message: JSON = {"timestamp": timestamp, "type": kind}
    message.update(fields or {})
    if conversation is not None and "artifact" not in message:
        message["artifact"] = conversation.artifact()
    message["call"] = call
    if assistant:
        message["assistant"] = assistant
    if customer:
        message["customer"] = customer
    if phone_number:
        message["phoneNumber"] = phone_number
    return message


def costs_for(
    *, call: JSON, assistant: JSON, conversation: Conversation, seconds: float, analysed: bool
) -> tuple[float, list[JSON], JSON]:
    """Plausible ``cost``, ``costs[]`` and ``costBreakdown`` from the call's length and words."""
    minutes = round(seconds / 60, 4)
    raw_model, raw_voice = assistant.get("model"), assistant.get("voice")
    raw_transcriber = assistant.get("transcriber")
    model: JSON = raw_model if isinstance(raw_model, dict) else {}
    voice: JSON = raw_voice if isinstance(raw_voice, dict) else {}
    transcriber: JSON = raw_transcriber if isinstance(raw_transcriber, dict) else {}
    turns = max(conversation.spoken_count(), 1)
    prompt_tokens, completion_tokens = 900 * turns, 40 * turns
    characters = conversation.bot_characters()
    transport = round(minutes * 0.0135, 4)
    stt = round(minutes * 0.01, 4)
    llm = round(prompt_tokens * 2.5e-6 + completion_tokens * 1e-5, 4)
    tts = round(characters * 6e-5, 4)
    vapi = round(minutes * 0.05, 4)
    model_ref = {"provider": model.get("provider", "openai"), "model": model.get("model", "gpt-4o")}
    costs: list[JSON] = [
        {
            "type": "transport",
            "provider": call.get("phoneCallProvider", "twilio"),
            "minutes": minutes,
            "cost": transport,
        },
        {
            "type": "transcriber",
            "transcriber": {k: transcriber[k] for k in ("provider", "model") if k in transcriber}
            or {"provider": "deepgram"},
            "minutes": minutes,
            "cost": stt,
        },
        {
            "type": "model",
            "model": model_ref,
            "promptTokens": prompt_tokens,
            "completionTokens": completion_tokens,
            "cachedPromptTokens": 0,
            "cost": llm,
        },
        {
            "type": "voice",
            "voice": {k: voice[k] for k in ("provider", "voiceId") if k in voice} or {"provider": "11labs"},
            "characters": characters,
            "cost": tts,
        },
        {"type": "vapi", "subType": "normal", "minutes": minutes, "cost": vapi},
    ]
    analysis_breakdown: JSON = {}
    if analysed:
        for kind, (p, c, cost) in {
            "summary": (800, 60, 0.0026),
            "structuredData": (900, 25, 0.0025),
            "successEvaluation": (850, 3, 0.0021),
        }.items():
            costs.append(
                {
                    "type": "analysis",
                    "analysisType": kind,
                    "model": model_ref,
                    "promptTokens": p,
                    "completionTokens": c,
                    "cost": cost,
                }
            )
            analysis_breakdown.update({kind: cost, f"{kind}PromptTokens": p, f"{kind}CompletionTokens": c})
    total = round(sum(c["cost"] for c in costs), 4)
    breakdown: JSON = {
        "transport": transport,
        "stt": stt,
        "llm": llm,
        "tts": tts,
        "vapi": vapi,
        "total": total,
        "llmPromptTokens": prompt_tokens,
        "llmCompletionTokens": completion_tokens,
        "llmCachedPromptTokens": 0,
        "ttsCharacters": characters,
    }
    if analysis_breakdown:
        breakdown["analysisCostBreakdown"] = analysis_breakdown
    return total, costs, breakdown


def recording_urls(base_url: str, call_id: str) -> JSON:
    mono = f"{base_url}/recordings/{call_id}-mono.wav"
    stereo = f"{base_url}/recordings/{call_id}-stereo.wav"
    return {
        "recordingUrl": mono,
        "stereoRecordingUrl": stereo,
        "recording": {
            "mono": {
                "combinedUrl": mono,
                "assistantUrl": f"{base_url}/recordings/{call_id}-assistant.wav",
                "customerUrl": f"{base_url}/recordings/{call_id}-customer.wav",
            },
            "stereoUrl": stereo,
        },
        "logUrl": f"{base_url}/logs/{call_id}.jsonl",
    }


def silent_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A silent 8 kHz mono WAV: enough for a recording link in the admin to play."""
    frames = int(seconds * rate)
    data = b"\x00\x00" * frames
    header = b"RIFF" + (36 + len(data)).to_bytes(4, "little") + b"WAVEfmt "
    header += (16).to_bytes(4, "little") + (1).to_bytes(2, "little") + (1).to_bytes(2, "little")
    header += rate.to_bytes(4, "little") + (rate * 2).to_bytes(4, "little") + (2).to_bytes(2, "little")
    header += (16).to_bytes(2, "little") + b"data" + len(data).to_bytes(4, "little")
    return header + data
