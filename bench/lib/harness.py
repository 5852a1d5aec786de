"""Shared benchmark plumbing: a gunicorn server on a free port, concurrent callers, percentiles.

Everything binds 127.0.0.1 on a port chosen at run time; the server is always stopped.
The client uses ``http.client`` with one keep-alive connection per caller thread.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn_server(
    *, env: dict[str, str], workers: int = 2, threads: int = 16, settings: str = "bench.lib.settings"
) -> Iterator[int]:
    """Start gunicorn (gthread) serving the project; yield its port; stop it on exit."""
    port = free_port()
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, **env}
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "voiceops.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--log-level",
        "warning",
        "--backlog",
        "256",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env)  # noqa: S603 - fixed argv
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not come up in 30 s")
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@dataclass
class Stats:
    label: str
    latencies_ms: list[float]
    wall_seconds: float
    errors: int
    samples: list[str] = field(default_factory=list)

    def pct(self, p: float) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        index = min(len(data) - 1, max(0, round(p / 100 * len(data) + 0.5) - 1))
        return data[index]

    def row(self) -> str:
        n = len(self.latencies_ms)
        rps = n / self.wall_seconds if self.wall_seconds else 0.0
        mean = statistics.fmean(self.latencies_ms) if n else float("nan")
        return (
            f"{self.label:<34} {n:>6} {rps:>8.0f} {self.pct(50):>8.2f} {self.pct(90):>8.2f} "
            f"{self.pct(99):>8.2f} {mean:>8.2f} {self.errors:>6}"
        )


HEADER = (
    f"{'target':<34} {'reqs':>6} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'mean':>8} "
    f"{'errors':>6}"
)


def run_load(
    *,
    label: str,
    port: int,
    path: str,
    concurrency: int,
    requests_per_caller: int,
    body_for: Callable[[int, int], bytes],
    headers: dict[str, str],
    check: Callable[[int, bytes], bool] = lambda status, body: status == 200,
) -> Stats:
    """``concurrency`` callers each POST ``requests_per_caller`` bodies back to back."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    samples: list[str] = []
    barrier = threading.Barrier(concurrency + 1)

    def caller(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        for n in range(requests_per_caller):
            body = body_for(index, n)
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
                response = conn.getresponse()
                payload = response.read()
                ok = check(response.status, payload)
                if not ok and len(samples) < 3:
                    samples.append(f"{response.status} {payload[:300]!r}")
            except (OSError, http.client.HTTPException) as exc:
                if len(samples) < 3:
                    samples.append(repr(exc))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                ok = False
            latencies[index].append((time.perf_counter() - started) * 1000)
            if not ok:
                errors[index] += 1
        conn.close()

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return Stats(label, [x for chunk in latencies for x in chunk], wall, sum(errors), samples)
