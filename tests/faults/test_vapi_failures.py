"""Vapi's API failing: 5xx, 429 and timeouts are retried with backoff, then fail visibly and in time.

The client is the one place that talks to Vapi, so this is where "no worker blocked longer
than its timeout" is decided: every request has connect/read timeouts and a bounded number
of retries, and gives up with a typed error that carries the reason.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
import responses

from voiceops.vapi.client import (
    VapiClient,
    VapiRateLimited,
    VapiServerError,
    VapiUnavailable,
)

BASE = "http://vapi.test"


def client(**kwargs) -> VapiClient:
    return VapiClient(base_url=BASE, api_key="test-vapi-private-key-0f3b", backoff_factor=0.01, **kwargs)


@responses.activate
def test_get_retries_5xx_with_backoff_then_succeeds():
    url = f"{BASE}/assistant/a1"
    responses.get(url, status=503, json={"message": "upstream down"})
    responses.get(url, status=502, json={"message": "bad gateway"})
    responses.get(url, status=200, json={"id": "a1"})
    assert client(retries=3).assistant_get("a1") == {"id": "a1"}
    assert len(responses.calls) == 3


@responses.activate
def test_patch_push_gives_up_after_retries_with_the_reason():
    responses.patch(f"{BASE}/assistant/a1", status=500, json={"message": "Internal server error"})
    with pytest.raises(VapiServerError) as info:
        client(retries=2).assistant_update("a1", {"name": "x"})
    assert len(responses.calls) == 3  # first try + 2 retries
    assert "500" in str(info.value) or "retries" in str(info.value)


@responses.activate
def test_dial_post_429_is_not_slept_on_but_returned_with_retry_after():
    """The dialer turns a 429 into a refusal (requeue, org-wide hold): no worker sleeps on it."""
    url = f"{BASE}/call"
    responses.post(url, status=429, json={"message": "Too many requests"}, headers={"Retry-After": "7"})
    responses.post(url, status=201, json={"id": "call-1", "status": "queued"})
    with pytest.raises(VapiRateLimited) as info:
        client(retries=2).call_create({"customer": {"number": "+15555550123"}})
    assert len(responses.calls) == 1
    assert info.value.status == 429 and info.value.retry_after == 7.0 and info.value.message


@responses.activate
def test_dial_post_is_not_repeated_after_a_5xx_so_no_one_is_dialed_twice():
    responses.post(f"{BASE}/call", status=502, json={"message": "Bad gateway"})
    with pytest.raises(VapiServerError) as info:
        client(retries=3).call_create({})
    assert len(responses.calls) == 1
    assert info.value.status == 502 and info.value.message == "Bad gateway"


@responses.activate
def test_connect_timeouts_surface_as_unavailable():
    responses.get(f"{BASE}/call/c1", body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(VapiUnavailable, match="did not answer"):
        client(retries=0).call_get("c1")


@pytest.fixture
def silent_server():
    """Accepts connections and never answers: the worst case for a blocked worker."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    listener.close()


def test_a_vapi_that_never_answers_blocks_no_longer_than_timeouts_and_retries(silent_server):
    read_timeout, retries = 0.3, 2
    vapi = VapiClient(base_url=silent_server, api_key="k", timeout=(0.3, read_timeout), retries=retries)
    started = time.monotonic()
    with pytest.raises(VapiUnavailable):
        vapi.assistant_get("a1")
    elapsed = time.monotonic() - started
    budget = (retries + 1) * read_timeout + 1.0  # + backoff
    print(f"silent Vapi: gave up after {elapsed:.2f}s (budget {budget:.2f}s)")
    assert elapsed < budget * 3  # bounded: no hang, whatever the machine's load


def test_a_dial_to_a_silent_vapi_is_not_retried_after_the_read_timeout(silent_server):
    vapi = VapiClient(base_url=silent_server, api_key="k", timeout=(0.3, 0.3), retries=3)
    started = time.monotonic()
    with pytest.raises(VapiUnavailable):
        vapi.call_create({"customer": {"number": "+15555550123"}})
    # A POST that may have reached Vapi is never repeated: one read timeout, not four.
    assert time.monotonic() - started < 0.3 * 4
