"""A gunicorn worker killed mid-request: a webhook is stored and acknowledged, or not
acknowledged (so Vapi retries) -- never acknowledged and lost.

A hook pauses inside the request just before and just after the ledger INSERT and notes
where it is; the test SIGKILLs the worker at each point, for an informational message
(autocommitted INSERT) and for a tool call (answered inside one transaction).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests

from calls.models import WebhookEvent
from tests.faults.lifecycle import URL, auth_headers, lifecycle_bodies
from tests.faults.servers import WebServer, child_env, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
# granian exits (for its supervisor to restart it) when a worker dies again within 5.5 s of
# being respawned, a crash-loop guard; the kills here are spaced past it, as crashes are.
RESPAWN_WINDOW = 6.0


def send(url: str, body: bytes, result: dict) -> None:
    try:
        response = requests.post(
            url, data=body, headers={**auth_headers(), "Content-Type": "application/json"}, timeout=20
        )
        result["status"] = response.status_code
    except requests.RequestException as exc:
        result["error"] = type(exc).__name__


def stored(call_id: str, message_type: str) -> int:
    return WebhookEvent.objects.filter(vapi_call_id=call_id, message_type=message_type).count()


def test_killed_web_worker_never_acknowledges_a_lost_webhook(fault_dir):
    marker = fault_dir / "web.marker"
    marker.touch()
    web = WebServer(
        child_env(
            FAULT_WEBHOOK_MARKER=str(marker), FAULT_WEBHOOK_PAUSE="0.5", VAPI_WEBHOOK_DISPATCH="notify"
        ),
        fault_dir / "web.log",
        workers=1,
    )
    outcomes = []
    last_kill: float | None = None
    try:
        web.wait_ready()
        cases = [
            (message, point)
            for message in ("status-update-ringing.json", "tool-calls.json")
            for point in ("before-store", "after-store", None)
        ]
        for fixture, point in cases:
            call_id, [(_, body)] = lifecycle_bodies(names=(fixture,))
            message_type = "tool-calls" if fixture == "tool-calls.json" else "status-update"
            lines_before = len(marker.read_text().splitlines())
            result: dict = {}
            if point and last_kill is not None:
                time.sleep(max(0.0, last_kill + RESPAWN_WINDOW - time.monotonic()))
            thread = threading.Thread(target=send, args=(f"{web.url}{URL}", body, result))
            thread.start()
            if point:

                def reached(point=point, lines_before=lines_before):
                    return any(
                        line.endswith(point) for line in marker.read_text().splitlines()[lines_before:]
                    )

                wait_until(reached, timeout=20, message=lambda: web.output()[-2000:])
                pid = int(marker.read_text().splitlines()[-1].split()[0])
                os.kill(pid, signal.SIGKILL)
                last_kill = time.monotonic()
            thread.join(timeout=30)
            acknowledged = 200 <= result.get("status", 0) < 300
            rows = stored(call_id, message_type)
            outcomes.append((fixture, point, acknowledged, rows))
            assert rows == 1 or not acknowledged, (fixture, point, result)  # never acked and lost

            web.wait_ready()  # the master has replaced the killed worker
            # Vapi retries what was not acknowledged: the retry is answered and stored once.
            retry: dict = {}
            send(f"{web.url}{URL}", body, retry)
            assert retry.get("status") == 200, retry
            assert stored(call_id, message_type) == 1
        for outcome in outcomes:
            print("killed at {1}: {0} acknowledged={2} stored={3}".format(*outcome))
        by_point = {(f, p): (a, r) for f, p, a, r in outcomes}
        assert by_point[("status-update-ringing.json", None)] == (True, 1)
        assert by_point[("tool-calls.json", None)] == (True, 1)
        assert by_point[("status-update-ringing.json", "before-store")] == (False, 0)
        assert by_point[("tool-calls.json", "after-store")] == (False, 0)  # rolled back with the worker
        assert by_point[("status-update-ringing.json", "after-store")] == (False, 1)  # stored, Vapi retries
    finally:
        web.stop()
