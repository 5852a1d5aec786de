"""``manage.py vapi_simulator``: simulate-inbound against a running simulator, the load tool, errors."""

from __future__ import annotations

import io
import socket

import pytest
from django.core.management import CommandError, call_command

from tests.simulator.conftest import CaptureServer
from voiceops.simulator.runner import running_simulator


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("vapi_simulator", *args, stdout=out)
    return out.getvalue()


def test_simulate_inbound_talks_to_the_running_simulator(capture: CaptureServer) -> None:
    capture.answer = lambda m: (
        (200, {"assistant": {"name": "Transient", "firstMessage": "Hello from voiceops."}})
        if m["type"] == "assistant-request"
        else (200, {})
    )
    with running_simulator(time_factor=500, server_url=capture.url) as sim:
        output = run(
            "simulate-inbound",
            "--from",
            "+15555550123",
            "--to",
            "+12125550100",
            "--caller",
            "hangs-up",
            "--simulator-url",
            sim.base_url,
        )
    assert capture.types()[0] == "assistant-request"
    assert "status ended (customer-ended-call)" in output
    assert "AI: Hello" in output


def test_simulate_inbound_errors_are_clear() -> None:
    with running_simulator(play_calls=False) as sim:
        with pytest.raises(CommandError, match="is not in this org"):
            run(
                "simulate-inbound",
                "--from",
                "+15555550123",
                "--to",
                "+15555550999",
                "--simulator-url",
                sim.base_url,
            )
        with pytest.raises(CommandError, match="E.164"):
            run("simulate-inbound", "--from", "0123", "--to", "+12125550100", "--simulator-url", sim.base_url)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    with pytest.raises(CommandError, match="no simulator at"):
        run(
            "simulate-inbound",
            "--from",
            "+15555550123",
            "--to",
            "+12125550100",
            "--simulator-url",
            f"http://127.0.0.1:{free}",
        )


def test_load_reports_figures(capture: CaptureServer) -> None:
    output = run(
        "--time-factor",
        "1000",
        "--seed",
        "3",
        "load",
        "--calls",
        "3",
        "--seconds",
        "0.5",
        "--server-url",
        capture.url,
        "--auth",
        "hmac",
    )
    assert "calls completed" in output and "tool-calls" in output and "status-update" in output
    assert capture.received and all("x-signature" in c.headers for c in capture.received)
    calls = {c.message["call"]["id"] for c in capture.received}
    assert len(calls) >= 3


def test_serve_refuses_a_busy_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(CommandError, match="cannot listen"):
            run("--port", str(busy.getsockname()[1]))


def test_bad_scenario_option_is_a_command_error() -> None:
    with pytest.raises(CommandError, match="unknown scenario"):
        run("--port", "0", "--scenario", "sings-a-song")
