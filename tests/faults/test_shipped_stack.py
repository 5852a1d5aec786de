"""The configuration that ships, end to end, with duplicate deliveries.

The web server as the Procfile starts it (``scripts/web``: granian), and the documented
alternative (``gunicorn voiceops.wsgi`` with ``gunicorn.conf.py``: threaded workers), notify
dispatch with group commit (the settings' defaults), and the ledger worker
(``manage.py webhook_worker``) as the Procfile runs it. Whole calls are sent with every
delivery repeated three times at once (Vapi retries, a proxy sends twice): every answer is
200, each event is stored exactly once (also when the copies meet in one group commit), the
copies of a tool call get the same answer and run the tool once, and the ledger worker, woken
by NOTIFY with no Redis, turns the events into ended calls.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from calls.enums import EventState
from calls.models import Call, WebhookEvent
from tests.faults.lifecycle import LIFECYCLE, URL, auth_headers, lifecycle_bodies
from tests.faults.servers import Granian, Gunicorn, Process, child_env, wait_until
from tools.models import ToolInvocation

CALLS = 4
COPIES = 3


def post(url: str, body: bytes) -> tuple[int, bytes]:
    response = requests.post(
        url, data=body, headers={**auth_headers(), "Content-Type": "application/json"}, timeout=30
    )
    return response.status_code, response.content


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("server", "banner"), [(Granian, "Starting granian"), (Gunicorn, "Using worker: gthread")]
)
def test_shipped_stack_stores_each_duplicate_once_and_the_ledger_worker_processes_all(
    fault_dir, server, banner
):
    env = child_env()
    web = server(env, fault_dir / "web.log", workers=2)
    ledger = Process(
        [sys.executable, "manage.py", "webhook_worker", "--poll", "1"], env, fault_dir / "ledger.log"
    )
    try:
        web.wait_ready()
        assert banner in web.output()  # the server and worker model that ship
        calls = [lifecycle_bodies() for _ in range(CALLS)]
        call_ids = [call_id for call_id, _ in calls]
        tool_answers: dict[str, list[dict]] = {}
        with ThreadPoolExecutor(max_workers=CALLS * COPIES) as pool:
            for step, name in enumerate(LIFECYCLE):  # in order per call, all calls and copies at once
                futures = [
                    (call_id, pool.submit(post, f"{web.url}{URL}", bodies[step][1]))
                    for call_id, bodies in calls
                    for _ in range(COPIES)
                ]
                for call_id, future in futures:
                    status, content = future.result()
                    assert status == 200, (name, content)
                    if name == "tool-calls.json":
                        tool_answers.setdefault(call_id, []).append(json.loads(content))

        events = WebhookEvent.objects.filter(vapi_call_id__in=call_ids)
        assert events.count() == CALLS * len(LIFECYCLE)  # every event once, no copy stored twice
        for answers in tool_answers.values():  # every copy of a tool call gets the same answer
            assert len(answers) == COPIES and all(answer == answers[0] for answer in answers), answers
        for call_id in call_ids:  # the fixture's two tool calls ran once each, not once per copy
            assert ToolInvocation.objects.filter(vapi_call_id=call_id).count() == 2

        wait_until(
            lambda: not events.filter(state=EventState.RECEIVED).exists(),
            timeout=60,
            message=lambda: f"the ledger worker to process every event\n{ledger.output()[-3000:]}",
        )
        assert not events.filter(state=EventState.FAILED).exists()
        ended = Call.objects.filter(vapi_id__in=call_ids, status="ended", has_final_report=True)
        assert ended.count() == CALLS
    finally:
        ledger.stop()
        web.stop()
