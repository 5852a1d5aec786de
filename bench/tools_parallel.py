"""N slow tool calls in one tool-calls message: how long until the caller's answer is sent.

Run: ``.venv/bin/python bench/tools_parallel.py [--deadline 2] [--sleep 3] [--repeats 3]``.

Every tool call of a message shares one deadline measured from the message's arrival
(``tools.execution``), so N slow tools are answered within one deadline instead of N of
them (before: each call got the full deadline in turn, so four 5 s tools took ~20 s, which
is Vapi's timeout). Each benchmark tool sleeps ``--sleep`` seconds in Postgres against a
``--deadline`` second deadline, so every one of them would miss it.

In-process on the private ``<your database>_bench`` database (created and migrated as in
``bench/webhook_bench.py``), through the real webhook view with Django's test client
(middleware, authentication, ledger row, claim, answer). For N in 1, 2, 4, 8 it prints the
median and worst answer time, how many results came back and how many were deferred to a
worker, and the old sequential bound (N x deadline). The deferred runs are queued for Celery;
the queue and the rows are removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webhook_bench import SECRET, bench_env, fixture, prepare_database, purge_queue  # noqa: E402

TOOL = "bench_slow_tool"


def setup(deadline: float) -> None:
    env = bench_env()
    prepare_database(env)
    os.environ.update(env)
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    import django

    django.setup()
    from django.db import connection
    from rest_framework import serializers

    from tools.models import Tool
    from tools.registry import register

    class SleepArgs(serializers.Serializer):
        seconds = serializers.FloatField()

    def slow(ctx, args):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(%s)", [args["seconds"]])
        return "done"

    register(name=TOOL, description="Sleeps in Postgres.", arguments=SleepArgs)(slow)
    Tool.objects.update_or_create(name=TOOL, defaults={"timeout_seconds": deadline})


def message(n: int, sleep: float) -> bytes:
    body = fixture("tool-calls.json")
    body["message"]["call"]["id"] = str(uuid.uuid4())
    body["message"]["toolCallList"] = [
        {
            "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": TOOL, "arguments": {"seconds": sleep}},
        }
        for _ in range(n)
    ]
    body["message"].pop("toolWithToolCallList", None)
    return json.dumps(body).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, default=2.0, help="the tool's deadline in seconds")
    parser.add_argument("--sleep", type=float, default=3.0, help="how long each tool would take")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    setup(args.deadline)

    from django.test import Client

    from tools.execution.types import HOLDING
    from tools.models import Tool, ToolInvocation

    client = Client()
    print(f"deadline {args.deadline:.1f} s per tool, each tool needs {args.sleep:.1f} s")
    print(f"{'tools':>5} {'median s':>9} {'worst s':>8} {'results':>8} {'deferred':>9} {'old bound s':>12}")
    try:
        warm_up = message(1, args.sleep)  # the first pays for imports and the broker connection
        client.post(
            "/webhooks/vapi/",
            data=warm_up,
            content_type="application/json",
            headers={"X-Vapi-Secret": SECRET},
        )
        for n in (1, 2, 4, 8):
            times: list[float] = []
            results = deferred = 0
            for _ in range(args.repeats):
                body = message(n, args.sleep)
                started = time.perf_counter()
                response = client.post(
                    "/webhooks/vapi/",
                    data=body,
                    content_type="application/json",
                    headers={"X-Vapi-Secret": SECRET},
                )
                times.append(time.perf_counter() - started)
                answered = response.json()["results"]
                results += len(answered)
                deferred += sum(r.get("result") == HOLDING for r in answered)
            print(
                f"{n:>5} {statistics.median(times):>9.2f} {max(times):>8.2f} "
                f"{results // args.repeats:>8} {deferred // args.repeats:>9} {n * args.deadline:>12.1f}"
            )
    finally:
        ToolInvocation.objects.filter(name=TOOL).delete()
        Tool.objects.filter(name=TOOL).delete()
        purge_queue(dict(os.environ))


if __name__ == "__main__":
    main()
