"""Fixtures for assistant tests: Vapi faked at its HTTP boundary with ``responses``."""

from __future__ import annotations

import json

import pytest
import responses

from tests.conftest import load_fixture
from tests.factories import AssistantFactory

VAPI = "http://vapi.test"
CREDENTIAL_ID = "4d9e5c14-8a6b-4e3f-9d0c-2f4a7b9c5e83"
ASSISTANT_ID = "a3f1c9e2-4b6d-4e8a-9c1f-7d2e5b8a0c34"


@pytest.fixture
def vapi():
    """A ``responses`` mock of Vapi. The webhook credential endpoint answers by default."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(
            responses.POST,
            f"{VAPI}/credential",
            json={"id": CREDENTIAL_ID, "provider": "webhook"},
            status=201,
        )
        mock.add(
            responses.PATCH, f"{VAPI}/credential/{CREDENTIAL_ID}", json={"id": CREDENTIAL_ID}, status=200
        )
        yield mock


def calls_to(mock: responses.RequestsMock, method: str, path: str) -> list:
    return [
        c for c in mock.calls if c.request.method == method and c.request.url.split("?")[0] == f"{VAPI}{path}"
    ]


def body_of(call) -> dict:
    return json.loads(call.request.body)


@pytest.fixture
def northwind(db):
    """An assistant configured like rest/assistant-create-request.json (Vapi's create shape)."""
    fixture = load_fixture("rest/assistant-create-request.json")
    return AssistantFactory(
        name=fixture["name"],
        first_message=fixture["firstMessage"],
        first_message_mode=fixture["firstMessageMode"],
        system_prompt=fixture["model"]["messages"][0]["content"],
        model_provider="openai",
        model_name="gpt-4o",
        temperature=0.3,
        max_tokens=250,
        voice_provider="11labs",
        voice_id="sarah",
        transcriber_provider="deepgram",
        transcriber_model="nova-2-phonecall",
        transcriber_language="en",
        server_messages=fixture["serverMessages"],
        max_duration_seconds=600,
        voicemail_message=fixture["voicemailMessage"],
        end_call_message=fixture["endCallMessage"],
        end_call_phrases=fixture["endCallPhrases"],
        structured_data_schema=fixture["analysisPlan"]["structuredDataPlan"]["schema"],
        success_rubric="PassFail",
        recording_enabled=True,
        recording_format="mp3",
        metadata={"environment": "staging"},
    )


@pytest.fixture
def eager_retries():
    """Let eager tasks run their retries in-process: with eager propagation on, Celery
    re-raises ``Retry`` instead of applying the next attempt."""
    from voiceops.celery import app

    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before
