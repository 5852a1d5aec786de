"""Our copies of Vapi's enums agree with vapi-server-sdk 3.0.0 (the contract's authority)."""

from __future__ import annotations

import typing

import pytest

from tests.sdk import sdk_model
from voiceops.vapi import enums as vapi_enums


def literal_values(union) -> set[str]:
    values: set[str] = set()
    for arg in typing.get_args(union):
        if typing.get_origin(arg) is typing.Literal:
            values.update(typing.get_args(arg))
    return values


def discriminators(annotated_union) -> set[str]:
    union = typing.get_args(annotated_union)[0]
    return {member.model_fields["provider"].default for member in typing.get_args(union)}


@pytest.mark.parametrize(
    ("ours", "sdk"),
    [
        (vapi_enums.MODEL_PROVIDERS, "CreateAssistantDtoModel"),
        (vapi_enums.VOICE_PROVIDERS, "CreateAssistantDtoVoice"),
        (vapi_enums.TRANSCRIBER_PROVIDERS, "CreateAssistantDtoTranscriber"),
    ],
)
def test_providers_match_the_sdk(ours, sdk):
    assert set(ours) == discriminators(sdk_model(sdk))


@pytest.mark.parametrize(
    ("ours", "sdk"),
    [
        (vapi_enums.SERVER_MESSAGES, "CreateAssistantDtoServerMessagesItem"),
        (vapi_enums.FIRST_MESSAGE_MODES, "CreateAssistantDtoFirstMessageMode"),
        (vapi_enums.SUCCESS_RUBRICS, "SuccessEvaluationPlanRubric"),
    ],
)
def test_literal_enums_match_the_sdk(ours, sdk):
    assert set(ours) == literal_values(sdk_model(sdk))
