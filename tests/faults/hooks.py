"""Slow-downs injected into child processes so a test can kill them at a known moment.

Each hook writes a line to a marker file when it reaches its pause, so the test knows the
process is exactly there before it sends SIGKILL. Only active when the env var is set.
"""

from __future__ import annotations

import functools
import os
import time


def _mark(path: str, what: str) -> None:
    with open(path, "a") as handle:
        handle.write(f"{os.getpid()} {what}\n")


def install_worker_hooks() -> None:
    marker = os.environ.get("FAULT_SLOW_PROCESS_MARKER")
    if marker:
        from calls.services import events

        original = events.message_process
        seconds = float(os.environ.get("FAULT_SLOW_SECONDS", "30"))

        @functools.wraps(original)
        def slow_once(*args, **kwargs):
            if not os.path.exists(marker):  # the first attempt stalls; the redelivery runs
                _mark(marker, "processing")
                time.sleep(seconds)
            return original(*args, **kwargs)

        events.message_process = slow_once

    dial_marker = os.environ.get("FAULT_SLOW_DIAL_MARKER")
    if dial_marker:
        from voiceops.vapi import client

        original_request = client.VapiClient.request
        seconds = float(os.environ.get("FAULT_SLOW_SECONDS", "30"))

        def slow_dial(self, method, path, **kwargs):
            if method == "POST" and path == "/call" and not os.path.exists(dial_marker):
                _mark(dial_marker, "dialing")
                time.sleep(seconds)
            return original_request(self, method, path, **kwargs)

        client.VapiClient.request = slow_dial

    ended_marker = os.environ.get("FAULT_SLOW_ENDED_MARKER")
    if ended_marker:
        from calls import hooks as call_hooks

        original_ended = call_hooks.on_call_ended
        seconds = float(os.environ.get("FAULT_SLOW_SECONDS", "30"))

        def slow_ended(*args, **kwargs):
            # Runs after the event's transaction committed the call's end, before the campaign effects.
            if not os.path.exists(ended_marker):
                _mark(ended_marker, "call-ended")
                time.sleep(seconds)
            return original_ended(*args, **kwargs)

        call_hooks.on_call_ended = slow_ended


def install_web_hooks() -> None:
    marker = os.environ.get("FAULT_WEBHOOK_MARKER")
    if not marker:
        return
    from calls.services import ingest

    original = ingest.webhook_event_record
    pause = float(os.environ.get("FAULT_WEBHOOK_PAUSE", "0.5"))

    @functools.wraps(original)
    def paused(*args, **kwargs):
        _mark(marker, "before-store")
        time.sleep(pause)
        result = original(*args, **kwargs)
        _mark(marker, "after-store")
        time.sleep(pause)
        return result

    ingest.webhook_event_record = paused
