"""Webhook throughput and latency next to a bare Django JSON view, on the web server as shipped.

What it does (DESIGN.md "Hot paths"):
1. makes a private database (``<your database>_bench``) and migrates it;
2. starts the web server as it ships (``scripts/web``: granian, one process per core, 8
   threads; bench settings add a bare ``POST /bench/bare/`` view) on a free 127.0.0.1 port;
3. a load generator (asyncio, raw HTTP/1.1 keep-alive, 32 connections) sends, for
   ``--seconds`` each after a warm-up, in the shipped dispatch (notify + group commit): the
   bare view; distinct authenticated status-update messages (each a new call, so each is
   stored); the same signed with HMAC; distinct tool-calls (ledger row, dispatcher, stored
   answer); then the status updates again with the other dispatch modes, for comparison:
   notify without group commit, and celery (one publish to Redis per event);
4. prints requests/s, p50 and p99 per scenario, and cleans up (server stopped, the bench
   database's ledger and the Celery queue it filled emptied).

The anchors (a bare durable Django endpoint, a FastAPI peer) are measured by
``../shared/bench/compare.sh``; this script compares the project with itself.

Run: ``.venv/bin/python bench/webhook_bench.py [--seconds 10] [--connections 32]``
(``--workers N --threads M`` override the defaults of scripts/web).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECRET = "bench-secret-3f9a"
FIXTURES = ROOT / "tests" / "fixtures" / "vapi"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    for line in (ROOT / ".env").read_text().splitlines() if (ROOT / ".env").exists() else []:
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            env.setdefault(key.strip(), value.strip())
    database = urlsplit(env.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voiceops"))
    env.update(
        {
            "DATABASE_URL": urlunsplit(database._replace(path=database.path + "_bench")),
            "DJANGO_SETTINGS_MODULE": "bench.django_bench.settings",
            "SECRET_KEY": "bench-only-secret-key",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "VAPI_WEBHOOK_SECRET": SECRET,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "LOG_LEVEL": env.get("BENCH_LOG_LEVEL", "WARNING"),
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def prepare_database(env: dict[str, str]) -> None:
    import psycopg

    url = urlsplit(env["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin = urlunsplit(url._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("TRUNCATE calls_webhookevent, tools_toolinvocation")


def purge_queue(env: dict[str, str]) -> None:
    import redis

    client = redis.Redis.from_url(env.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    client.delete("celery")


def wait_for(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Until /healthz answers 200 (the socket accepts before the workers have booted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the web server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as probe:
                probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if probe.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("the web server did not start")


# --- request bodies ---------------------------------------------------------------------------


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def request_bytes(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def status_updates(n: int, *, signed: bool) -> list[bytes]:
    template = fixture("status-update-in-progress.json")
    out = []
    stamp = str(int(time.time()))
    for _ in range(n):
        template["message"]["call"]["id"] = str(uuid.uuid4())
        template["message"]["timestamp"] += 1
        body = json.dumps(template).encode()
        if signed:
            signature = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
            headers = {"x-signature": signature, "x-timestamp": stamp}
        else:
            headers = {"X-Vapi-Secret": SECRET}
        out.append(request_bytes("/webhooks/vapi/", body, headers))
    return out


def tool_calls(n: int) -> list[bytes]:
    template = fixture("tool-calls.json")
    out = []
    for _ in range(n):
        call_id = str(uuid.uuid4())
        template["message"]["call"]["id"] = call_id
        for item in template["message"]["toolCallList"]:
            item["id"] = f"call_{uuid.uuid4().hex[:24]}"
        for item in template["message"]["toolWithToolCallList"]:
            item["toolCall"]["id"] = f"call_{uuid.uuid4().hex[:24]}"
        out.append(request_bytes("/webhooks/vapi/", json.dumps(template).encode(), {"X-Vapi-Secret": SECRET}))
    return out


def bare(n: int) -> list[bytes]:
    body = json.dumps(fixture("status-update-in-progress.json")).encode()
    return [request_bytes("/bench/bare/", body, {})] * n


# --- load generator ----------------------------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    close = False
    for line in lines[1:]:
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "content-length":
            length = int(value.strip())
        elif key == "connection" and value.strip().lower() == "close":
            close = True
    if length:
        await reader.readexactly(length)
    return status, close


async def run_load(port: int, requests: list[bytes], *, connections: int, seconds: float, warmup: float):
    latencies: list[float] = []
    errors = 0
    cursor = 0
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + seconds

    async def worker() -> None:
        nonlocal cursor, errors
        reader = writer = None
        while time.monotonic() < stop_at and cursor < len(requests):
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            payload = requests[cursor]
            cursor += 1
            sent = time.monotonic()
            try:
                writer.write(payload)
                assert reader is not None
                status, close = await read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                writer = None
                errors += 1
                continue
            done = time.monotonic()
            if sent >= measure_from and done <= stop_at:
                latencies.append(done - sent)
                if status != 200:
                    errors += 1
            if close:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = min(time.monotonic(), stop_at) - measure_from
    return latencies, errors, elapsed


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, help="web processes (default: one per core)")
    parser.add_argument("--threads", type=int, help="threads per process (default: 8)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    env = bench_env()
    prepare_database(env)
    per_scenario = int((args.seconds + args.warmup) * 3000)  # more than the server can take
    runs = [
        (
            "notify+group-commit",
            [
                ("bare Django JSON view", lambda: bare(per_scenario)),
                ("status-update (X-Vapi-Secret)", lambda: status_updates(per_scenario, signed=False)),
                ("status-update (HMAC)", lambda: status_updates(per_scenario, signed=True)),
                ("tool-calls (X-Vapi-Secret)", lambda: tool_calls(per_scenario // 2)),
            ],
        ),
        ("notify", [("status-update (X-Vapi-Secret)", lambda: status_updates(per_scenario, signed=False))]),
        ("celery", [("status-update (X-Vapi-Secret)", lambda: status_updates(per_scenario, signed=False))]),
    ]
    results: dict[str, list[tuple[float, float, float, int, int]]] = {}
    for dispatch, scenarios in runs:
        port = free_port()
        command = ["bash", str(ROOT / "scripts" / "web")]  # the server as the Procfile starts it
        server_env = {
            **env,
            "WEB_PORT": str(port),
            "WEB_LOG_LEVEL": "warning",
            "VAPI_WEBHOOK_DISPATCH": dispatch.split("+")[0],
            "VAPI_WEBHOOK_GROUP_COMMIT": "1" if "group-commit" in dispatch else "0",
        }
        if args.workers:
            server_env["WEB_WORKERS"] = str(args.workers)
        if args.threads:
            server_env["WEB_THREADS"] = str(args.threads)
        server = subprocess.Popen(command, cwd=ROOT, env=server_env, start_new_session=True)
        try:
            wait_for(port, server)
            # Rounds interleave the scenarios, so a load spike on the shared machine does not
            # land on one scenario only; the median round is reported.
            for _ in range(args.rounds):
                for name, build in scenarios:
                    label = f"{name} [{dispatch}]" if "bare" not in name else f"{name} [{dispatch} server]"
                    requests = build()
                    latencies, errors, elapsed = asyncio.run(
                        run_load(
                            port,
                            requests,
                            connections=args.connections,
                            seconds=args.seconds,
                            warmup=args.warmup,
                        )
                    )
                    print(f"  {label}: {len(latencies)} answers, {errors} errors", file=sys.stderr)
                    if not latencies:
                        raise SystemExit(f"{label}: no answers (is the server up?)")
                    results.setdefault(label, []).append(
                        (len(latencies) / elapsed, statistics.median(latencies) * 1000,
                         percentile(latencies, 0.99) * 1000, errors, len(latencies))
                    )  # fmt: skip
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
            purge_queue(env)

    described = (
        "scripts/web (granian"
        + (f", WEB_WORKERS={args.workers}" if args.workers else "")
        + (f", WEB_THREADS={args.threads}" if args.threads else "")
        + ")"
    )
    print(
        f"\n{described}, {args.connections} connections, {args.seconds:.0f}s per scenario, "
        f"median of {args.rounds} rounds, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'scenario':50} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'requests':>9}")
    for label, measured in results.items():
        rps, p50, p99, errors, count = sorted(measured)[len(measured) // 2]
        print(f"{label:50} {rps:7.0f} {p50:8.1f} {p99:8.1f} {errors:7d} {count:9d}")


if __name__ == "__main__":
    main()
