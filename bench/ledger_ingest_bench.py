"""Ledger ingest rate with a full ledger (1M rows by default) next to an empty one.

Why: every webhook is one ledger row, so the ledger only grows (retention trims it after
``RETENTION_DAYS``). Its inserts must not slow down as it fills: each index is one more
random write per row, and a big random-keyed index stops fitting in memory. The issue's goal
is the rate with 1M rows within 10% of the rate with none.

What it does:
1. makes two private databases beside yours (``<your database>_ledger_empty`` and
   ``_ledger_full``), migrates them, and fills the second with ``--rows`` processed events
   (status updates, transcripts, conversation updates, reports: realistic bodies of about
   1 KB, 11 events per call, spread over the last weeks), then VACUUM ANALYZE, as
   autovacuum would have done;
2. measures the ingest rate in each, alternating empty/full for ``--rounds`` rounds so a load
   spike on a shared machine hits both: a fresh process with the shipped settings (group
   commit, notify dispatch) whose ``--threads`` threads, like request threads of the server,
   store distinct status updates through ``calls.services.ingest.webhook_receive`` for
   ``--seconds``;
3. prints rows/s per round, the medians and the ratio full/empty.

The web tier is left out on purpose: it costs the same with any ledger size, and would only
add noise; ``bench/webhook_bench.py`` and ``../shared/bench/compare.sh`` measure it.

Run (full, about 10 minutes on 2 cores, most of it filling):
    .venv/bin/python bench/ledger_ingest_bench.py
Quick check:
    .venv/bin/python bench/ledger_ingest_bench.py --rows 100000 --seconds 3 --rounds 1
``--keep`` keeps the filled database for the next run (it is reused when it has the rows).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FILL_BATCH = 100_000
# One call's events, as Vapi sends them; the body is padded to about 1 KB like a real one.
FILL_SQL = """
INSERT INTO calls_webhookevent (message_type, vapi_call_id, body, headers, received_at,
    message_timestamp, dedupe_key, state, attempts, error, traceback, response, processed_at)
SELECT kind, call_id,
       '{"message":{"type":"' || kind || '","timestamp":' || stamp || ',"call":{"id":"' || call_id
         || '","type":"outboundPhoneCall"},"customer":{"number":"+15555550100"},"pad":"'
         || repeat(md5(i::text), 25) || '"}}',
       '{"auth-scheme": "secret", "content-type": "application/json"}'::jsonb,
       at, stamp, kind || ':' || encode(sha256(convert_to('fill' || i, 'UTF8')), 'hex'),
       CASE WHEN kind = 'speech-update' THEN 'ignored' ELSE 'processed' END, 1, '', '', NULL, at
FROM (
    SELECT i,
           (ARRAY['status-update', 'status-update', 'speech-update', 'transcript', 'transcript',
                  'conversation-update', 'conversation-update', 'user-interrupted', 'hang',
                  'status-update', 'end-of-call-report'])[1 + i %% 11] AS kind,
           md5('call' || (i / 11))::uuid::text AS call_id,
           now() - make_interval(secs => (%(total)s - i) * 2.0) AS at,
           (extract(epoch FROM now()) * 1000)::bigint - (%(total)s - i) * 2000 AS stamp
    FROM generate_series(%(start)s, %(stop)s - 1) AS i
) AS rows
"""


def database_url(suffix: str) -> str:
    env = dict(os.environ)
    for line in (ROOT / ".env").read_text().splitlines() if (ROOT / ".env").exists() else []:
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            env.setdefault(key.strip(), value.strip())
    url = urlsplit(env.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voiceops"))
    return urlunsplit(url._replace(path=url.path + suffix))


def child_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-only-secret-key",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "VAPI_WEBHOOK_SECRET": "bench-secret",
        "VAPI_WEBHOOK_DISPATCH": "notify",
        "VAPI_WEBHOOK_GROUP_COMMIT": "1",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "voiceops.settings",
    }


def prepare(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=child_env(url),
        check=True,
    )


def ledger_rows(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM calls_webhookevent").fetchone()
        return int(row[0]) if row else 0


def fill(url: str, rows: int) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE calls_webhookevent")
        started = time.monotonic()
        for start in range(0, rows, FILL_BATCH):
            stop = min(rows, start + FILL_BATCH)
            conn.execute(FILL_SQL, {"start": start, "stop": stop, "total": rows})
            print(f"  filled {stop:,} of {rows:,} rows ({time.monotonic() - started:.0f} s)", file=sys.stderr)
        conn.execute("VACUUM ANALYZE calls_webhookevent")


def empty(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE calls_webhookevent")
        conn.execute("VACUUM ANALYZE calls_webhookevent")


def measure(seconds: float, threads: int) -> None:
    """In the child process: store distinct status updates from ``threads`` threads."""
    import django

    django.setup()
    from django.db import connection

    from calls.services.ingest import webhook_receive
    from voiceops.vapi.messages import parse_server_message

    template = json.loads(
        (ROOT / "tests" / "fixtures" / "vapi" / "status-update-in-progress.json").read_text()
    )
    prepared = []
    for _ in range(int(seconds * 6000) + 2000):  # more than can be stored in the time
        template["message"]["call"]["id"] = str(uuid.uuid4())
        body = json.dumps(template).encode()
        prepared.append((parse_server_message(body, max_depth=64), body))
    headers = {"content-type": "application/json", "auth-scheme": "secret"}
    counts = [0] * threads
    warm_until = time.monotonic() + 1.0
    stop_at = warm_until + seconds

    def run(index: int) -> None:
        for position in range(index, len(prepared), threads):
            now = time.monotonic()
            if now >= stop_at:
                break
            parsed, body = prepared[position]
            webhook_receive(parsed=parsed, body=body, headers=headers)
            if now >= warm_until:
                counts[index] += 1
        connection.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(json.dumps({"rate": sum(counts) / seconds}))


def rate(url: str, seconds: float, threads: int) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", "--seconds", str(seconds), "--threads", str(threads)],
        cwd=ROOT,
        env=child_env(url),
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"the measuring process failed:\n{out.stderr[-3000:]}")
    return float(json.loads(out.stdout.strip().splitlines()[-1])["rate"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows in the full ledger.")
    parser.add_argument("--seconds", type=float, default=10.0, help="Measured seconds per round and ledger.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=16, help="Request threads storing at once.")
    parser.add_argument("--keep", action="store_true", help="Keep the filled database for the next run.")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.seconds, args.threads)
        return

    empty_url, full_url = database_url("_ledger_empty"), database_url("_ledger_full")
    for url in (empty_url, full_url):
        prepare(url)
    if abs(ledger_rows(full_url) - args.rows) > args.rows // 10 or not args.keep:
        print(f"filling the full ledger with {args.rows:,} rows", file=sys.stderr)
        fill(full_url, args.rows)
    rates: dict[str, list[float]] = {"empty": [], "full": []}
    for round_ in range(1, args.rounds + 1):
        empty(empty_url)
        for label, url in (("empty", empty_url), ("full", full_url)):
            rates[label].append(rate(url, args.seconds, args.threads))
            print(f"  round {round_}: {label:5} ledger {rates[label][-1]:8.0f} rows/s", file=sys.stderr)
    full_rows = ledger_rows(full_url)
    if not args.keep:
        fill(full_url, 0)
    none_rate, full_rate = statistics.median(rates["empty"]), statistics.median(rates["full"])
    print(
        f"\nledger ingest, {args.threads} threads, group commit, {args.seconds:.0f}s x {args.rounds} rounds, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'ledger':28} {'rows/s (median)':>16}")
    print(f"{'empty':28} {none_rate:16.0f}")
    print(f"{f'{full_rows:,} rows':28} {full_rate:16.0f}")
    print(f"ratio full/empty: {full_rate / none_rate:.2f} (goal: at least 0.90)")


if __name__ == "__main__":
    main()
