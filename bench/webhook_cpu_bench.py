"""CPU per webhook, web tier and Postgres apart: the per-core figures behind docs/SCALING.md.

Why CPU and not requests/s: on a shared machine a throughput figure says as much about the
neighbours as about us, while the CPU a request costs barely moves with load. Capacity per
core is then 1000 / (CPU ms per request), and the sizing rule in SCALING.md follows from it.

What it does: in a fresh process with the settings as shipped (notify dispatch, group commit;
the bench database of bench/webhook_bench.py), ``--threads`` threads, like the request threads
of one gunicorn worker, push distinct webhooks through Django's WSGI handler (everything but
gunicorn's HTTP parsing, about 0.1 ms more per request). Scenarios: status updates; the ledger
worker processing them (one thread, as ``manage.py webhook_worker`` runs; the first event of a
call creates the call and its customer); the ledger worker processing a later event of the
same calls (a final transcript, then an ended status-update); tool calls (get_customer_info);
status updates with celery dispatch (one publish to Redis per event), for comparison. It
reads the CPU time of this process (getrusage) and of the Postgres backends serving it
(/proc/<pid>/stat, so Postgres must run on this machine) before and after, and prints CPU ms
per request and what one core serves.

Run: ``.venv/bin/python bench/webhook_cpu_bench.py [--requests 3000] [--threads 16] [--scenario tool-calls]``
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook_bench import SECRET, bench_env, fixture, prepare_database, purge_queue  # noqa: E402

SCENARIOS = {
    "status-update": ("notify", "1"),
    "ledger worker: process one event": ("notify", "1"),  # the status updates stored just before
    "ledger worker: later event of a call": ("notify", "1"),  # a final transcript of those calls
    "ledger worker: a call's ended status": ("notify", "1"),  # then an ended status-update each
    "tool-calls": ("notify", "1"),
    "status-update, celery dispatch": ("celery", "0"),
}
PROCESS = "ledger worker: process one event"
PROCESS_LATER = "ledger worker: later event of a call"
PROCESS_ENDED = "ledger worker: a call's ended status"
LATER_FIXTURES = {PROCESS_LATER: "transcript-final.json", PROCESS_ENDED: "status-update-ended.json"}


def bodies(kind: str, n: int) -> list[bytes]:
    out = []
    if kind.startswith("status-update"):
        template = fixture("status-update-in-progress.json")
        for _ in range(n):
            template["message"]["call"]["id"] = str(uuid.uuid4())
            out.append(json.dumps(template).encode())
        return out
    template = fixture("tool-calls.json")
    template["message"].pop("toolWithToolCallList", None)
    template["message"]["toolCallList"] = template["message"]["toolCallList"][:1]
    for _ in range(n):
        template["message"]["call"]["id"] = str(uuid.uuid4())
        template["message"]["toolCallList"][0]["id"] = f"call_{uuid.uuid4().hex[:24]}"
        template["message"]["toolCallList"][0]["function"] = {
            "name": "get_customer_info",
            "arguments": {"customer_id": "123"},
        }
        out.append(json.dumps(template).encode())
    return out


def backend_ticks() -> int:
    """CPU clock ticks used so far by the Postgres backends connected to our database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [row[0] for row in cursor.fetchall()]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def measure(kind: str, requests: int, threads: int) -> dict[str, Any]:
    """In the child process: run ``requests`` webhooks of ``kind`` and return the CPU used."""
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    if kind == PROCESS:
        return measure_processing(requests)
    if kind in LATER_FIXTURES:
        store_later(LATER_FIXTURES[kind], requests)
        return measure_processing(requests)
    app = WSGIHandler()
    failures: list[str] = []

    def call(body: bytes) -> None:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/webhooks/vapi/",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_X_VAPI_SECRET": SECRET,
            "wsgi.input": io.BytesIO(body),
        }

        def start_response(status: str, headers: list, exc_info: Any = None) -> None:
            if not status.startswith("200"):
                failures.append(status)

        b"".join(app(environ, start_response))

    release = threading.Event()
    done = threading.Semaphore(0)

    def run(chunk: list[bytes]) -> None:
        for body in chunk:
            call(body)
        done.release()
        # Keep this thread's connection (and its backend's CPU counter) until it was read.
        release.wait()
        connection.close()

    workers = [threading.Thread(target=run, args=(bodies(kind, 20),)) for _ in range(threads)]
    for worker in workers:  # warm-up: connections, imports, caches
        worker.start()
    for _ in workers:
        done.acquire()
    release.set()
    for worker in workers:
        worker.join()

    prepared = bodies(kind, requests)
    release.clear()
    workers = [threading.Thread(target=run, args=(prepared[i::threads],)) for i in range(threads)]
    ticks = os.sysconf("SC_CLK_TCK")
    db_before, own_before = backend_ticks(), resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for _ in workers:
        done.acquire()
    wall = time.perf_counter() - started
    db_after, own_after = backend_ticks(), resource.getrusage(resource.RUSAGE_SELF)
    release.set()
    for worker in workers:
        worker.join()
    web = (own_after.ru_utime + own_after.ru_stime) - (own_before.ru_utime + own_before.ru_stime)
    return {
        "web_ms": web * 1000 / requests,
        "db_ms": (db_after - db_before) / ticks * 1000 / requests,
        "wall_rps": requests / wall,
        "failures": len(failures),
    }


def store_later(fixture_name: str, requests: int) -> None:
    """A later event (a fixture) for each of the calls the first events created (stored, not timed)."""
    from calls.models import Call
    from calls.services.events import webhook_event_record
    from voiceops.vapi.messages import parse_server_message

    template = fixture(fixture_name)
    for vapi_id in Call.objects.order_by("-id").values_list("vapi_id", flat=True)[:requests]:
        template["message"].setdefault("call", {})["id"] = vapi_id
        body = json.dumps(template).encode()
        parsed = parse_server_message(body, max_depth=64)
        webhook_event_record(parsed=parsed, body=body, headers={})


def measure_processing(requests: int) -> dict[str, Any]:
    """What the ledger worker spends per stored event (one thread, as one worker runs)."""
    from calls.services.events import webhook_events_process_pending

    ticks = os.sysconf("SC_CLK_TCK")
    db_before, own_before = backend_ticks(), resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    processed = webhook_events_process_pending(limit=requests)
    wall = time.perf_counter() - started
    db_after, own_after = backend_ticks(), resource.getrusage(resource.RUSAGE_SELF)
    web = (own_after.ru_utime + own_after.ru_stime) - (own_before.ru_utime + own_before.ru_stime)
    count = max(processed, 1)
    return {
        "web_ms": web * 1000 / count,
        "db_ms": (db_after - db_before) / ticks * 1000 / count,
        "wall_rps": count / wall,
        "failures": requests - processed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument(
        "--scenario", action="append", choices=list(SCENARIOS), help="only these scenarios (repeatable)"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.requests, args.threads)))
        return

    env = bench_env()
    prepare_database(env)
    print(f"{'scenario':38} {'app ms':>7} {'db ms':>7} {'total':>7} {'req/s per core':>15} {'errors':>7}")
    for kind, (dispatch, group_commit) in SCENARIOS.items():
        if args.scenario and kind not in args.scenario:
            continue
        child_env = {**env, "VAPI_WEBHOOK_DISPATCH": dispatch, "VAPI_WEBHOOK_GROUP_COMMIT": group_commit}
        out = subprocess.run(
            [sys.executable, __file__, "--measure", kind, "--requests", str(args.requests)]
            + ["--threads", str(args.threads)],
            cwd=ROOT,
            env=child_env,
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise SystemExit(f"{kind}: the measuring process failed\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        total = result["web_ms"] + result["db_ms"]
        print(
            f"{kind:38} {result['web_ms']:7.2f} {result['db_ms']:7.2f} {total:7.2f} "
            f"{1000 / total:15.0f} {result['failures']:7d}"
        )
    purge_queue(env)
    print(
        f"\nCPU ms per request ({args.requests} requests, {args.threads} threads, one process); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}. Postgres' background "
        "writers (WAL, checkpoints) are not counted."
    )


if __name__ == "__main__":
    main()
