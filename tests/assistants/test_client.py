"""The Vapi REST client against a real loopback HTTP server (urllib3 retries and Retry-After
only run on a real connection; ``responses`` replays retries without sleeping)."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from voiceops.logging import formatter
from voiceops.vapi import client as client_module
from voiceops.vapi.client import (
    VapiAuthError,
    VapiBadRequest,
    VapiClient,
    VapiNotFound,
    VapiRateLimited,
    VapiServerError,
    VapiTimeout,
    VapiUnavailable,
    get_client,
)

API_KEY = "test-vapi-private-key-0f3b"


class ScriptedVapi:
    """Answers requests from a script of (status, body, headers, delay) steps, then 200 {}."""

    def __init__(self) -> None:
        self.script: list[tuple[int, object, dict, float]] = []
        self.requests: list[tuple[str, str, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                outer.requests.append((self.command, self.path, dict(self.headers)))
                status, body, headers, delay = outer.script.pop(0) if outer.script else (200, {}, {}, 0)
                if delay:
                    time.sleep(delay)
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PATCH = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def then(
        self, status: int, body: object = None, headers: dict | None = None, delay: float = 0
    ) -> ScriptedVapi:
        self.script.append((status, {} if body is None else body, headers or {}, delay))
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_vapi():
    server = ScriptedVapi()
    yield server
    server.close()


@pytest.fixture
def sleeps(monkeypatch):
    """Record urllib3's back-off sleeps instead of sleeping (urllib3 calls ``time.sleep``)."""
    recorded: list[float] = []
    import urllib3.util.retry as retry_module

    class FakeTime:
        @staticmethod
        def sleep(seconds: float) -> None:
            recorded.append(seconds)

    monkeypatch.setattr(retry_module, "time", FakeTime)
    return recorded


def make_client(url: str, **kwargs) -> VapiClient:
    return VapiClient(api_key=API_KEY, base_url=url, **{"timeout": (1.0, 1.0), "retries": 2, **kwargs})


def test_sends_bearer_auth_and_json(fake_vapi):
    fake_vapi.then(201, {"id": "a1"})
    assert make_client(fake_vapi.url).assistant_create({"name": "x"}) == {"id": "a1"}
    method, path, headers = fake_vapi.requests[0]
    assert (method, path) == ("POST", "/assistant")
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["Content-Type"] == "application/json"


def test_post_429_with_retry_after_is_retried_after_the_given_delay(fake_vapi, sleeps):
    fake_vapi.then(429, {"message": "slow down"}, {"Retry-After": "2"}).then(201, {"id": "a1"})
    assert make_client(fake_vapi.url).assistant_create({"name": "x"}) == {"id": "a1"}
    assert len(fake_vapi.requests) == 2
    assert sleeps == [2.0]


def test_retry_after_is_capped(fake_vapi, sleeps, settings):
    settings.VAPI_RETRY_AFTER_MAX = 5
    fake_vapi.then(429, {}, {"Retry-After": "3600"}).then(200, {"id": "a1"})
    make_client(fake_vapi.url).assistant_get("a1")
    assert sleeps == [5.0]


def test_429_until_retries_run_out_is_rate_limited_with_retry_after(fake_vapi, sleeps):
    for _ in range(3):
        fake_vapi.then(429, {"message": "Too many requests"}, {"Retry-After": "1"})
    with pytest.raises(VapiRateLimited) as exc:
        make_client(fake_vapi.url).assistant_update("a1", {"name": "x"})
    assert exc.value.status == 429 and exc.value.retry_after == 1.0 and exc.value.retryable
    assert len(fake_vapi.requests) == 3


def test_post_5xx_is_not_retried(fake_vapi, sleeps):
    fake_vapi.then(500, {"message": "Internal server error", "statusCode": 500})
    with pytest.raises(VapiServerError) as exc:
        make_client(fake_vapi.url).call_create({"assistantId": "a"})
    assert len(fake_vapi.requests) == 1
    assert exc.value.status == 500 and exc.value.message == "Internal server error"


def test_idempotent_5xx_is_retried_with_backoff(fake_vapi, sleeps):
    fake_vapi.then(503, {"message": "busy"}).then(502, {}).then(200, {"id": "a1"})
    assert make_client(fake_vapi.url, backoff_factor=0.5).assistant_get("a1") == {"id": "a1"}
    assert len(fake_vapi.requests) == 3
    assert sleeps == [1.0]  # urllib3: no wait before the first retry, then factor * 2


def test_post_read_timeout_is_not_repeated(fake_vapi):
    fake_vapi.then(201, {"id": "late"}, delay=0.6)
    with pytest.raises(VapiTimeout) as exc:
        make_client(fake_vapi.url, timeout=(1.0, 0.2)).assistant_create({"name": "x"})
    assert exc.value.retryable and exc.value.status is None
    time.sleep(0.5)
    assert len(fake_vapi.requests) == 1


def test_get_read_timeout_is_retried(fake_vapi, sleeps):
    fake_vapi.then(200, {}, delay=0.6).then(200, {"id": "a1"})
    assert make_client(fake_vapi.url, timeout=(1.0, 0.3)).assistant_get("a1") == {"id": "a1"}


def test_connection_refused_is_unavailable(sleeps):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(VapiUnavailable):
        make_client(f"http://127.0.0.1:{port}").assistant_get("a1")


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (
            400,
            {"message": ["a must be b", "property x should not exist"], "error": "Bad Request"},
            VapiBadRequest,
            "a must be b; property x should not exist",
        ),
        (401, {"message": "Invalid key"}, VapiAuthError, "Invalid key"),
        (404, {"message": "Assistant not found"}, VapiNotFound, "Assistant not found"),
    ],
)
def test_typed_errors_carry_status_and_vapis_message(fake_vapi, status, body, error, message):
    fake_vapi.then(status, body)
    with pytest.raises(error) as exc:
        make_client(fake_vapi.url).assistant_get("a1")
    assert exc.value.status == status and exc.value.message == message
    assert not exc.value.retryable


def test_the_api_key_never_reaches_logs_or_errors(fake_vapi, sleeps, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    client = make_client(fake_vapi.url)
    fake_vapi.then(201, {"id": "a1"}).then(400, {"message": "bad"}).then(500, {"message": "down"})
    fake_vapi.then(200, {}, delay=1.5).then(200, {}, delay=1.5).then(200, {}, delay=1.5)
    errors = []
    client.assistant_create({"name": "x"})
    for call in (
        lambda: client.assistant_create({}),
        lambda: client.call_create({}),
        lambda: client.assistant_get("slow"),
    ):
        try:
            call()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    assert len(errors) == 3
    rendered = [formatter("json").format(record) for record in caplog.records]
    assert any("vapi.request" in line for line in rendered)
    captured = capfd.readouterr()
    haystack = "\n".join(
        [caplog.text, *rendered, captured.out, captured.err, *map(str, errors), *map(repr, errors)]
    )
    assert API_KEY not in haystack
    assert API_KEY[-8:] not in haystack


def test_get_client_is_rebuilt_when_settings_change(settings):
    first = get_client()
    assert get_client() is first
    settings.VAPI_API_KEY = "another-key"
    second = get_client()
    assert second is not first
    assert second.session.headers["Authorization"] == "Bearer another-key"
    client_module._client = None
