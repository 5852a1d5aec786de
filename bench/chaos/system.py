"""The system a soak runs and breaks: private Redis, a Postgres proxy, the Procfile's processes.

Everything here belongs to the harness and nothing else: a ``redis-server`` on a free port
(stopped and restarted as a fault), a TCP proxy in front of the machine's Postgres (cut and
restored, as the fault tests do; the machine's own services are never touched), and the
processes of the Procfile (web, worker, beat and whatever else it lists except the
simulator, which runs inside the harness so its record can be read). A supervisor thread
restarts a process that died, like systemd or a container runtime would.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults.proxy import TcpProxy, free_port

ROOT = Path(__file__).resolve().parents[2]
_VAR = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def procfile_commands(path: Path = ROOT / "Procfile") -> dict[str, str]:
    """``name: command`` lines of the Procfile, read at run time (the dispatch may change it)."""
    commands: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if ":" in line and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            commands[name.strip()] = command.strip()
    return commands


def expand(command: str, env: dict[str, str]) -> str:
    """``${NAME:-default}`` as the shell would expand it (shown in the printed plan)."""
    return _VAR.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), command)


class RedisServer:
    """A private redis-server; ``crash()`` SIGKILLs it (the queue is lost), ``start()`` brings it back."""

    def __init__(self, workdir: Path) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += [
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--logfile",
            str(self.workdir / "redis.log"),
        ]
        self.proc = subprocess.Popen(args, start_new_session=True)  # noqa: S603 - fixed arguments
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                __import__("socket").create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def crash(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        self.crash()


@dataclass
class Managed:
    """One Procfile process, restarted by the supervisor when it dies."""

    name: str
    command: str
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    held: bool = False  # a fault keeps it down for a while
    log: object = field(default=None, repr=False)

    def start(self) -> None:
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(  # noqa: S603 - the Procfile's own command
            ["bash", "-c", f"exec {self.command}"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole process group (a crashed container: children die too)."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)

    def children(self) -> list[int]:
        if self.proc is None:
            return []
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout  # noqa: S607
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.alive and self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.log is not None:
            self.log.close()  # type: ignore[attr-defined]


class System:
    """Redis, the Postgres proxy and the Procfile processes, with a supervisor."""

    def __init__(self, *, workdir: Path, database_url: str, pg_port: int, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.redis = RedisServer(workdir)
        self.pg_proxy = TcpProxy(pg_port)
        self.web_port = free_port()
        self.base_env = env
        self.database_url = database_url
        self.processes: dict[str, Managed] = {}
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def child_env(self) -> dict[str, str]:
        proxied = re.sub(r"@[^/]+/", f"@127.0.0.1:{self.pg_proxy.port}/", self.database_url)
        return {
            **self.base_env,
            "DATABASE_URL": proxied,
            "REDIS_URL": self.redis.url,
            "WEB_PORT": str(self.web_port),
            "WEB_ACCESS_LOG": str(self.workdir / "access.log"),
            "PUBLIC_BASE_URL": self.web_url,
        }

    def start(self) -> None:
        self.redis.start()
        self.pg_proxy.start()
        env = self.child_env()
        for name, command in procfile_commands().items():
            if name == "simulator":
                continue  # runs inside the harness, so its record can be read
            self.processes[name] = Managed(name, command, env, self.workdir / f"{name}.log")
            self.processes[name].start()
        self._supervisor = threading.Thread(target=self._supervise, name="supervisor", daemon=True)
        self._supervisor.start()

    def _supervise(self) -> None:
        while not self._stop.wait(0.5):
            for process in self.processes.values():
                if not process.alive and not process.held:
                    process.restarts += 1
                    process.start()

    def wait_web(self, timeout: float = 60.0) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.web_url}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            time.sleep(0.3)
        raise RuntimeError(f"web did not come up; see {self.workdir / 'web.log'}")

    def stop(self) -> None:
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        for process in self.processes.values():
            process.stop()
        self.pg_proxy.stop()
        self.redis.stop()
