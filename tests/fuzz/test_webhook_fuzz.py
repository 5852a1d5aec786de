"""Fuzzing POST /webhooks/vapi/: whatever arrives, never a 5xx; bad input gets a clear 4xx.

Authenticated garbage is the interesting case (unauthenticated requests are refused before
the body is read), so every request carries a valid secret unless the test says otherwise.
Stored events are also processed (on commit, eagerly), so a payload that would crash a
processor is seen too: processing failures must be recorded on the ledger row, not raised.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.enums import EventState
from calls.models import WebhookEvent
from tests.conftest import FIXTURES
from tests.faults.lifecycle import URL, auth_headers

pytestmark = pytest.mark.django_db

FIXTURE_NAMES = sorted(p.name for p in Path(FIXTURES).glob("*.json") if p.name != "ended-reasons.json")
WRONG_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5e308,
    True,
    "",
    "x" * 5000,
    "\u0000\ud7ff\U0010ffff",
    [],
    {},
    [1, "a", None],
    {"a": {"b": [{}]}},
]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def post(client, capture, body: bytes, headers: dict[str, str] | None = None, *, process: bool = True):
    client.raise_request_exception = False  # see what a real server would answer
    with capture(execute=process):
        return client.post(
            URL,
            data=body,
            content_type="application/json",
            headers=auth_headers() if headers is None else headers,
        )


def paths(document: Any, prefix: tuple = ()):
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from paths(value, (*prefix, index))


def replaced(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


def load(name: str) -> Any:
    return json.loads((Path(FIXTURES) / name).read_text(encoding="utf-8"))


def failed_processing() -> int:
    return (
        WebhookEvent.objects.exclude(state__in=[EventState.PROCESSED, EventState.IGNORED])
        .exclude(error="")
        .count()
    )


def test_every_field_of_every_fixture_with_a_wrong_type(client, django_capture_on_commit_callbacks, tally):
    """Each field (every path, nested ones included) of each fixture gets a wrong-typed value.

    ~2,500 requests: the answer is checked here; processing the stored events is left to the
    random-field test below, which samples the same space with processing on.
    """
    rng = random.Random(10)
    for name in FIXTURE_NAMES:
        document = load(name)
        for index, path in enumerate(paths(document)):
            if not path:
                continue
            value = WRONG_VALUES[(index + rng.randrange(len(WRONG_VALUES))) % len(WRONG_VALUES)]
            body = json.dumps(replaced(document, path, value)).encode()
            response = post(client, django_capture_on_commit_callbacks, body, process=False)
            tally(response.status_code)
            assert response.status_code < 500, (name, path, value, response.content[:300])
            if response.status_code >= 400:
                assert "error" in response.json(), (name, path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=25,
)
message_types = st.sampled_from(
    [
        "status-update",
        "end-of-call-report",
        "transcript",
        "tool-calls",
        "assistant-request",
        "transfer-destination-request",
        "conversation-update",
        "hang",
        "speech-update",
        "no-such-type",
    ]
)


@FUZZ
@given(document=json_values)
def test_random_json(client, django_capture_on_commit_callbacks, tally, document):
    response = post(client, django_capture_on_commit_callbacks, json.dumps(document).encode())
    tally(response.status_code)
    assert response.status_code < 500
    assert response.status_code in (200, 400), response.content[:200]


@FUZZ
@given(message_type=message_types, fields=st.dictionaries(st.text(max_size=20), json_values, max_size=8))
def test_random_messages_of_known_types(
    client, django_capture_on_commit_callbacks, tally, message_type, fields
):
    body = json.dumps({"message": {**fields, "type": message_type}}).encode()
    response = post(client, django_capture_on_commit_callbacks, body)
    tally(response.status_code)
    assert response.status_code < 500, response.content[:200]


@FUZZ
@given(
    name=st.sampled_from(FIXTURE_NAMES),
    seed=st.integers(min_value=0, max_value=10_000),
    value=json_values | st.sampled_from(WRONG_VALUES),
)
def test_random_field_of_a_fixture_gets_a_random_value(
    client, django_capture_on_commit_callbacks, tally, name, seed, value
):
    document = load(name)
    all_paths = [p for p in paths(document) if p]
    path = all_paths[seed % len(all_paths)]
    failed_before = failed_processing()
    response = post(
        client, django_capture_on_commit_callbacks, json.dumps(replaced(document, path, value)).encode()
    )
    # A processor that chokes on the payload must record the failure on the row, not raise.
    tally(response.status_code, processing_failures_recorded=failed_processing() - failed_before)
    assert response.status_code < 500, (name, path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300))
def test_random_bytes_and_invalid_utf8(client, django_capture_on_commit_callbacks, tally, raw):
    for body in (raw, b'{"message": {"type": "status-update", "status": "' + raw + b'"}}'):
        response = post(client, django_capture_on_commit_callbacks, body)
        tally(response.status_code)
        assert response.status_code < 500


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"[]",
        b'"message"',
        b"{}",
        b'{"message": null}',
        b'{"message": []}',
        b'{"message": "status-update"}',
        b'{"message": {}}',
        b'{"message": {"type": null}}',
        b'{"message": {"type": 7}}',
        b'{"msg": {"type": "status-update"}}',
        b'{"message": {"type": "status-update"}',  # truncated
        b'{"message": {"type": "status-update", "status": "\xff\xfe"}}',  # invalid UTF-8
        b'{"message": {"type": "status-update", "n": NaN}}',
    ],
)
def test_missing_or_broken_envelope_is_a_clear_400(client, django_capture_on_commit_callbacks, tally, body):
    response = post(client, django_capture_on_commit_callbacks, body)
    tally(response.status_code)
    assert response.status_code == 400, (body, response.content)
    assert response.json()["error"]


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_deep_nesting_is_refused_not_a_recursion_error(
    client, django_capture_on_commit_callbacks, tally, depth
):
    nested = "[" * depth + "]" * depth
    body = ('{"message": {"type": "status-update", "status": "ringing", "x": ' + nested + "}}").encode()
    response = post(client, django_capture_on_commit_callbacks, body)
    tally(response.status_code)
    assert response.status_code == 400, response.content[:200]


def test_huge_strings_under_and_over_the_limit(client, django_capture_on_commit_callbacks, tally, settings):
    settings.VAPI_WEBHOOK_MAX_BYTES = 512 * 1024
    document = load("status-update-ringing.json")
    document["message"]["call"]["name"] = "n" * (400 * 1024)
    response = post(client, django_capture_on_commit_callbacks, json.dumps(document).encode())
    tally(response.status_code)
    assert response.status_code == 200

    document["message"]["call"]["name"] = "n" * (600 * 1024)
    response = post(client, django_capture_on_commit_callbacks, json.dumps(document).encode())
    tally(response.status_code)
    assert response.status_code == 413 and response.json()["error"]


def test_unauthenticated_garbage_is_refused_before_parsing(client, django_capture_on_commit_callbacks, tally):
    for body in (b"\xff\xfe not json", b"[" * 50_000, json.dumps(load("tool-calls.json")).encode()):
        for headers in ({}, {"X-Vapi-Secret": "wrong"}, {"Authorization": "Bearer nope"}):
            response = post(client, django_capture_on_commit_callbacks, body, headers=headers)
            tally(response.status_code)
            assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0
