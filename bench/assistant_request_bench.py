"""assistant-request latency on a routed number, server-side, under 32 concurrent requests.

Vapi waits at most 7.5 s for the answer; our target is p99 <= 50 ms measured on the server.

What it does:
1. makes the private bench database (``<your database>_bench``), migrates it and seeds a routed
   number with four rules (blocked prefix, VIP, after hours, known callers in hours), a closure,
   a default assistant and 200 known customers;
2. starts the web server as it ships (``scripts/web``: granian, one process per core, 8
   threads each) with a Server-Timing middleware (bench/django_bench/timing.py) on a free
   127.0.0.1 port;
3. sends distinct assistant-request messages (each a new call: Call row, Customer lookup or
   insert, rule evaluation, RoutingDecision row) from 32 keep-alive connections, callers mixed
   known / unknown / VIP / blocked, for ``--seconds`` after a warm-up;
4. prints answers/s, the client-side p50/p99 and the server-side p50/p99 (Server-Timing).

Server-side time is measured inside Django (outermost middleware), so it includes waiting for
the GIL behind the process's other busy threads but not granian's queue: the client-side figures
show that part.

Run: ``.venv/bin/python bench/assistant_request_bench.py [--seconds 10] [--connections 32]``
(``--workers N --threads M`` override the defaults of scripts/web).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook_bench import (  # noqa: E402
    SECRET,
    bench_env,
    fixture,
    free_port,
    percentile,
    prepare_database,
    request_bytes,
    wait_for,
)

PHONE_VAPI_ID = "9e4b2d71-3c5a-4f88-b1d6-0a7c3e9f5b12"
KNOWN = [f"+1202555{n:04d}" for n in range(200)]


def seed() -> None:
    """Runs inside Django (``--seed`` in a subprocess with the bench environment)."""
    import django

    django.setup()
    import datetime as dt

    from django.db import connection

    from assistants.models import (
        Assistant,
        Closure,
        NumberMode,
        PhoneNumber,
        RoutingRule,
        RuleAction,
        RuleCaller,
        RuleWhen,
    )
    from calls.models import Call, Customer

    # Every run starts alike: no calls, only the known callers (so unknown callers are inserted).
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Call._meta.db_table}, {Customer._meta.db_table} CASCADE")

    def assistant(name: str, n: int) -> Assistant:
        return Assistant.objects.update_or_create(
            name=name, defaults={"vapi_id": f"00000000-0000-4000-8000-00000000000{n}"}
        )[0]

    desk, night, vip, default = (
        assistant("Bench desk", 1),
        assistant("Bench night", 2),
        assistant("Bench VIP", 3),
        assistant("Bench default", 4),
    )
    PhoneNumber.objects.filter(vapi_id=PHONE_VAPI_ID).delete()
    number = PhoneNumber.objects.create(
        number="+12125550187",
        vapi_id=PHONE_VAPI_ID,
        mode=NumberMode.ROUTED,
        assistant=default,
        time_zone="America/New_York",
    )
    rules = [
        dict(name="Blocked", caller_numbers=["+1900"], action=RuleAction.REFUSE),
        dict(name="VIP", caller=RuleCaller.VIP, assistant=vip),
        dict(name="After hours", when=RuleWhen.CLOSED, assistant=night),
        dict(name="Known in hours", when=RuleWhen.OPEN, caller=RuleCaller.KNOWN, assistant=desk),
    ]
    for position, rule in enumerate(rules, start=1):
        RoutingRule.objects.create(phone_number=number, position=position, **rule)
    Closure.objects.create(
        phone_number=number, starts_on=dt.date(2026, 12, 25), ends_on=dt.date(2026, 12, 26)
    )
    for index, caller in enumerate(KNOWN):
        Customer.objects.update_or_create(
            number=caller, defaults={"name": f"Caller {index}", "vip": index % 10 == 0}
        )


def requests(n: int) -> list[bytes]:
    template = fixture("assistant-request.json")
    out = []
    for i in range(n):
        kind = i % 4
        caller = (
            KNOWN[i % len(KNOWN)]
            if kind in (0, 1)
            else "+1900555" + f"{i % 10000:04d}"
            if kind == 2
            else f"+1415{(i * 7919) % 10_000_000:07d}"
        )
        template["message"]["call"]["id"] = str(uuid.uuid4())
        template["message"]["customer"]["number"] = caller
        template["message"]["call"]["customer"]["number"] = caller
        out.append(request_bytes("/webhooks/vapi/", json.dumps(template).encode(), {"X-Vapi-Secret": SECRET}))
    return out


async def read_response(reader: asyncio.StreamReader) -> tuple[int, float | None, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, server_ms, close = 0, None, False
    for line in lines[1:]:
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "content-length":
            length = int(value.strip())
        elif key == "server-timing" and "dur=" in value:
            server_ms = float(value.split("dur=", 1)[1].split(";")[0])
        elif key == "connection" and value.strip().lower() == "close":
            close = True
    if length:
        body = await reader.readexactly(length)
        if status == 200 and b"assistantId" not in body and b"error" not in body:
            status = 599  # an answer Vapi would not accept
    return status, server_ms, close


async def run_load(port: int, payloads: list[bytes], *, connections: int, seconds: float, warmup: float):
    client: list[float] = []
    server: list[float] = []
    errors = 0
    cursor = 0
    measure_from = time.monotonic() + warmup
    stop_at = measure_from + seconds

    async def worker() -> None:
        nonlocal cursor, errors
        reader = writer = None
        while time.monotonic() < stop_at and cursor < len(payloads):
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            payload = payloads[cursor]
            cursor += 1
            sent = time.monotonic()
            try:
                writer.write(payload)
                status, server_ms, close = await read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                writer = None
                errors += 1
                continue
            done = time.monotonic()
            if sent >= measure_from and done <= stop_at:
                client.append((done - sent) * 1000)
                if server_ms is not None:
                    server.append(server_ms)
                if status != 200:
                    errors += 1
            if close:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return client, server, errors, min(time.monotonic(), stop_at) - measure_from


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, help="web processes (default: one per core)")
    parser.add_argument("--threads", type=int, help="threads per process (default: 8)")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        seed()
        return

    load_before = os.getloadavg()[0]
    env = {**bench_env(), "DJANGO_SETTINGS_MODULE": "bench.django_bench.timed_settings"}
    prepare_database(env)
    subprocess.run([sys.executable, __file__, "--seed"], cwd=ROOT, env=env, check=True)
    port = free_port()
    server_env = {**env, "WEB_PORT": str(port), "WEB_LOG_LEVEL": "warning"}
    if args.workers:
        server_env["WEB_WORKERS"] = str(args.workers)
    if args.threads:
        server_env["WEB_THREADS"] = str(args.threads)
    command = ["bash", str(ROOT / "scripts" / "web")]  # the server as the Procfile starts it
    server_proc = subprocess.Popen(command, cwd=ROOT, env=server_env, start_new_session=True)
    try:
        wait_for(port, server_proc)
        payloads = requests(int((args.seconds + args.warmup) * 1500))
        client, server, errors, elapsed = asyncio.run(
            run_load(port, payloads, connections=args.connections, seconds=args.seconds, warmup=args.warmup)
        )
    finally:
        os.killpg(server_proc.pid, signal.SIGTERM)
        try:
            server_proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server_proc.pid, signal.SIGKILL)
    if not client:
        raise SystemExit("no answers (is the server up?)")
    described = (
        "scripts/web (granian"
        + (f", WEB_WORKERS={args.workers}" if args.workers else "")
        + (f", WEB_THREADS={args.threads}" if args.threads else "")
        + ")"
    )
    print(
        f"\nassistant-request on a routed number (4 rules, closures, 200 known callers): "
        f"{described}, {args.connections} connections, "
        f"{args.seconds:.0f}s, {os.cpu_count()} CPUs, "
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    columns = ("answers/s", "client p50", "client p99", "server p50", "server p99")
    print(" ".join(f"{c:>11}" for c in columns) + f" {'errors':>7}")
    print(
        f"{len(client) / elapsed:11.0f} {statistics.median(client):11.1f} {percentile(client, 0.99):11.1f} "
        f"{statistics.median(server) if server else float('nan'):11.1f} "
        f"{percentile(server, 0.99):11.1f} {errors:7d}"
    )
    print("target: server p99 <= 50 ms")


if __name__ == "__main__":
    main()
