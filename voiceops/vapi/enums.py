"""Vapi's enums for an assistant config, copied from ``vapi-server-sdk`` 3.0.0 (CONTRACT §1, §7.2).

Copied rather than imported: the SDK is a test-time dependency only (a large generated
package the runtime does not need). ``tests/assistants/test_vapi_enums.py`` compares these
lists with the SDK's ``Literal`` types so an SDK upgrade that adds a provider shows up there.
"""

from __future__ import annotations

# CreateAssistantDtoModel discriminator values.
MODEL_PROVIDERS: tuple[str, ...] = (
    "anthropic",
    "anthropic-bedrock",
    "anyscale",
    "cerebras",
    "custom-llm",
    "deepinfra",
    "deep-seek",
    "google",
    "groq",
    "inflection-ai",
    "minimax",
    "openai",
    "openrouter",
    "perplexity-ai",
    "together-ai",
    "xai",
    "vapi",
)

# CreateAssistantDtoVoice discriminator values.
VOICE_PROVIDERS: tuple[str, ...] = (
    "azure",
    "cartesia",
    "custom-voice",
    "deepgram",
    "11labs",
    "hume",
    "lmnt",
    "neuphonic",
    "openai",
    "playht",
    "wellsaid",
    "rime-ai",
    "smallest-ai",
    "tavus",
    "vapi",
    "sesame",
    "inworld",
    "minimax",
    "xai",
    "microsoft",
)

# CreateAssistantDtoTranscriber discriminator values.
TRANSCRIBER_PROVIDERS: tuple[str, ...] = (
    "assembly-ai",
    "azure",
    "custom-transcriber",
    "deepgram",
    "11labs",
    "gladia",
    "google",
    "speechmatics",
    "talkscriber",
    "openai",
    "cartesia",
    "soniox",
    "xai",
    "vapi",
)

# CreateAssistantDtoServerMessagesItem (CONTRACT §1).
SERVER_MESSAGES: tuple[str, ...] = (
    "assistant.started",
    "assistant.speechStarted",
    "conversation-update",
    "end-of-call-report",
    "function-call",
    "hang",
    "language-changed",
    "language-change-detected",
    "model-output",
    "phone-call-control",
    "speech-update",
    "status-update",
    "transcript",
    'transcript[transcriptType="final"]',
    "tool-calls",
    "transfer-destination-request",
    "handoff-destination-request",
    "transfer-update",
    "user-interrupted",
    "voice-input",
    "chat.created",
    "chat.deleted",
    "session.created",
    "session.updated",
    "session.deleted",
    "call.deleted",
    "call.delete.failed",
    "call.artifact.upload",
)

# CreateAssistantDtoFirstMessageMode.
FIRST_MESSAGE_MODES: tuple[str, ...] = (
    "assistant-speaks-first",
    "assistant-speaks-first-with-model-generated-message",
    "assistant-waits-for-user",
)

# SuccessEvaluationPlanRubric.
SUCCESS_RUBRICS: tuple[str, ...] = (
    "NumericScale",
    "DescriptiveScale",
    "Checklist",
    "Matrix",
    "PercentageScale",
    "LikertScale",
    "AutomaticRubric",
    "PassFail",
)

# ArtifactPlan.recordingFormat.
RECORDING_FORMATS: tuple[str, ...] = ("wav;l16", "mp3")


def choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]
