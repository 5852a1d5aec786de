"""book_appointment round trip through POST /webhooks/vapi/, next to a bare Django JSON view.

Run: ``.venv/bin/python bench/tools_bench.py [--seconds 10] [--connections 32]``.

Reuses the webhook benchmark's plumbing (``bench/webhook_bench.py``): the private
``<your database>_bench`` database, gunicorn (gthread, as in the Procfile) on a free
127.0.0.1 port with the bench settings (production settings plus ``POST /bench/bare/``),
and the asyncio keep-alive load generator with 32 connections. In one server run it
measures, after a warm-up each:

1. the bare Django JSON view;
2. ``book_appointment`` tool calls, each for a distinct free slot (every other one), so every request does
   the whole hot path: authenticate, ledger row, idempotency claim, customer and resource
   lookup, the INSERT checked by the exclusion constraint, the recorded answer, the stored
   webhook response;
3. the same slots again with new toolCallIds: the refusal path (the exclusion constraint
   says no, and the answer offers the next free times).

It prints requests/s, p50 and p99 per scenario and how many tool calls booked or were
refused (read back from the database), then removes what it created.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.webhook_bench import (  # noqa: E402 - shared plumbing, see the module docstring
    ROOT,
    SECRET,
    bare,
    bench_env,
    fixture,
    free_port,
    percentile,
    prepare_database,
    purge_queue,
    request_bytes,
    run_load,
    wait_for,
)

SLOT_MINUTES = 5
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
EVERY_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def create_resource(env: dict[str, str], name: str) -> int:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO tools_resource"
            " (name, kind, time_zone, slot_minutes, working_hours, active, created_at)"
            " VALUES (%s, 'room', 'UTC', %s, %s::jsonb, true, now()) RETURNING id",
            [name, SLOT_MINUTES, json.dumps(EVERY_DAY)],
        ).fetchone()
    return row[0]


def outcome_counts(env: dict[str, str], run_id: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        rows = conn.execute(
            """
            SELECT split_part(tool_call_id, '-', 3) AS scenario,
                   CASE WHEN result LIKE 'Booked with%%' THEN 'booked'
                        WHEN result LIKE 'Sorry, %% was just taken.%%' THEN 'refused'
                        ELSE 'other' END AS outcome,
                   count(*)
              FROM tools_toolinvocation WHERE tool_call_id LIKE %s GROUP BY 1, 2 ORDER BY 1, 2
            """,
            [f"bench-{run_id}-%"],
        ).fetchall()
    return {f"{scenario}/{outcome}": count for scenario, outcome, count in rows}


def cleanup(env: dict[str, str], resource_id: int, run_id: str) -> None:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("DELETE FROM tools_appointment WHERE resource_id = %s", [resource_id])
        conn.execute("DELETE FROM tools_resource WHERE id = %s", [resource_id])
        conn.execute("DELETE FROM tools_toolinvocation WHERE tool_call_id LIKE %s", [f"bench-{run_id}-%"])


def bookings(n: int, *, run_id: str, scenario: str, resource: str, first_day: dt.date) -> list[bytes]:
    """``n`` tool-calls bodies (the contract fixture, ~7 KB), request ``k`` asking for slot ``2k``.

    Every other slot stays free, so a refusal's "next free times" are found nearby, as in a
    real calendar, rather than after a solid block of thousands of bookings.
    """
    template = fixture("tool-calls.json")
    message = template["message"]
    message.pop("toolWithToolCallList", None)
    out = []
    for k in range(n):
        slot = 2 * k
        day = first_day + dt.timedelta(days=slot // SLOTS_PER_DAY)
        minutes = (slot % SLOTS_PER_DAY) * SLOT_MINUTES
        number = f"+1415555{9000 + k % 64:04d}"
        message["call"]["id"] = str(uuid.uuid4())
        message["customer"]["number"] = number
        message["call"]["customer"]["number"] = number
        message["toolCallList"] = [
            {
                "id": f"bench-{run_id}-{scenario}-{k}",
                "type": "function",
                "function": {
                    "name": "book_appointment",
                    "arguments": {
                        "resource": resource,
                        "date": day.isoformat(),
                        "time": f"{minutes // 60:02d}:{minutes % 60:02d}",
                        "name": f"Bench caller {k % 64}",
                    },
                },
            }
        ]
        out.append(request_bytes("/webhooks/vapi/", json.dumps(template).encode(), {"X-Vapi-Secret": SECRET}))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--max-requests", type=int, default=6000, help="bodies built per booking scenario")
    args = parser.parse_args()

    env = bench_env()
    prepare_database(env)
    run_id = uuid.uuid4().hex[:8]
    name = f"Bench room {run_id}"
    resource_id = create_resource(env, name)
    first_day = dt.date.today() + dt.timedelta(days=1)
    n = args.max_requests
    scenarios = [
        ("bare Django JSON view", lambda: bare(int((args.seconds + args.warmup) * 6000))),
        ("book_appointment via webhook", lambda: bookings(n, run_id=run_id, scenario="book", resource=name,
                                                          first_day=first_day)),
        ("book_appointment, slot taken", lambda: bookings(n, run_id=run_id, scenario="taken", resource=name,
                                                          first_day=first_day)),
    ]  # fmt: skip
    rows = []
    port = free_port()
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    command = [
        str(gunicorn if gunicorn.exists() else "gunicorn"), "voiceops.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread",
        "--keep-alive", "5", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_for(port, server)
        for label, build in scenarios:
            requests = build()
            latencies, errors, elapsed = asyncio.run(
                run_load(
                    port, requests, connections=args.connections, seconds=args.seconds, warmup=args.warmup
                )
            )
            rows.append(
                (label, len(latencies) / elapsed, statistics.median(latencies) * 1000,
                 percentile(latencies, 0.99) * 1000, errors, len(latencies))
            )  # fmt: skip
        outcomes = outcome_counts(env, run_id)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        purge_queue(env)
        cleanup(env, resource_id, run_id)

    print(
        f"\ngunicorn voiceops.wsgi --workers {args.workers} --threads {args.threads} (gthread), "
        f"{args.connections} connections, {args.seconds:.0f}s per scenario, {os.cpu_count()} CPUs"
    )
    print(f"{'scenario':44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'requests':>9}")
    for label, rps, p50, p99, errors, count in rows:
        print(f"{label:44} {rps:9.0f} {p50:8.1f} {p99:8.1f} {errors:7d} {count:9d}")
    print("tool calls by outcome (incl. warm-up):", ", ".join(f"{k} {v}" for k, v in outcomes.items()))


if __name__ == "__main__":
    main()
