"""Real processes for fault tests: gunicorn and celery workers on the test database.

Each process binds 127.0.0.1 on a free port (gunicorn) or consumes a queue name of its own
on our private Redis db (celery), and is always stopped by the test that started it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.db import connection

from tests.faults.proxy import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def children_database_url(*, host: str | None = None, port: int | str | None = None) -> str:
    """The URL of the database pytest-django created (committed data is visible to children)."""
    s = connection.settings_dict
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = host or s.get("HOST") or "127.0.0.1"
    port = port or s.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{s['NAME']}"


def child_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.faults.child_settings",
            "DATABASE_URL": children_database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
        }
    )
    env.update(overrides)
    return env


class Process:
    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


class Gunicorn(Process):
    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 1, timeout: int = 30) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            str(BIN / "gunicorn"),
            "voiceops.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--timeout",
            str(timeout),
            "--graceful-timeout",
            "2",
            "--config",
            "python:tests.faults.gunicorn_conf",
        ]
        super().__init__(args, env, log_path)

    def wait_ready(self, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.output()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not ready:\n{self.output()}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]


class Granian(Process):
    """The web server exactly as the Procfile starts it (scripts/web), with the fault hooks."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        server_env = {
            **env,
            "WEB_PORT": str(self.port),
            "WEB_WORKERS": str(workers),
            "WEB_GRACEFUL_TIMEOUT": "2",
            "WEB_APP": "tests.faults.wsgi:application",
        }
        super().__init__(["bash", str(ROOT / "scripts" / "web")], server_env, log_path)

    wait_ready = Gunicorn.wait_ready
    worker_pids = Gunicorn.worker_pids


# What the fault tests run: the web server that ships.
WebServer = Granian


class CeleryWorker(Process):
    def __init__(self, env: dict[str, str], log_path: Path, *, queue: str, concurrency: int = 1) -> None:
        self.queue = queue
        args = [
            str(BIN / "celery"),
            "-A",
            "voiceops",
            "worker",
            "-Q",
            queue,
            "-c",
            str(concurrency),
            "--pool",
            "prefork",
            "-l",
            "INFO",
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        super().__init__(args, env, log_path)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"celery exited:\n{self.output()}")
            if "ready" in self.output():
                return
            time.sleep(0.2)
        raise RuntimeError(f"celery not ready:\n{self.output()}")

    def child_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]


def wait_until(predicate, *, timeout: float, interval: float = 0.1, message=lambda: "condition") -> None:
    """Poll ``predicate``; on timeout fail with ``message()`` (a callable, so logs are read late)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    text = message() if callable(message) else message
    raise AssertionError(f"timed out after {timeout}s waiting for {text}\n{database_activity()}")


def database_activity() -> str:
    """What the test database's sessions are doing (diagnoses a stuck worker)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return "\n".join(str(row) for row in cursor.fetchall())
    except Exception as exc:  # noqa: BLE001
        return f"(no activity: {exc})"
