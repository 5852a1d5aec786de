"""Load: keep N calls in flight for M seconds against a server URL, then report figures.

Each of the N workers places a call (through the same code path as ``POST /call``), waits
until its last message was delivered and places the next, until the time is up. The
report counts calls and deliveries, status codes, and delivery latency per message type
(``tool-calls`` separately: a caller waits on those). Used by ``bench/`` scripts and by
``vapi_simulator load``.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from voiceops.simulator import resources
from voiceops.simulator.config import SimulatorConfig
from voiceops.simulator.runner import Simulator

JSON = dict[str, Any]
GENERIC_TOOLS = ("check_availability", "book_appointment", "get_customer_info", "opt_out")


@dataclass
class LoadReport:
    calls: int = 0
    seconds: float = 0.0
    deliveries: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latency_ms: dict[str, list[float]] = field(default_factory=dict)
    unfinished: int = 0

    @staticmethod
    def pct(values: list[float], q: float) -> float:
        if not values:
            return 0.0
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]

    def lines(self) -> list[str]:
        ok = sum(n for s, n in self.statuses.items() if s.startswith("2"))
        out = [
            f"calls completed     {self.calls} in {self.seconds:.1f} s "
            f"({self.calls / max(self.seconds, 1e-9):.1f}/s)",
            f"messages delivered  {self.deliveries} ({self.deliveries / max(self.seconds, 1e-9):.1f}/s), "
            f"2xx {ok}, other {dict((s, n) for s, n in self.statuses.items() if not s.startswith('2'))}",
        ]
        if self.unfinished:
            out.append(f"calls still playing at the end: {self.unfinished}")
        out.append(f"{'type':24} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
        for kind, values in sorted(self.latency_ms.items()):
            out.append(
                f"{kind:24} {len(values):6d} {self.pct(values, 0.5):8.1f} {self.pct(values, 0.95):8.1f} "
                f"{self.pct(values, 0.99):8.1f} {statistics.fmean(values) if values else 0:8.1f}"
            )
        return out


def load_assistant(
    sim: Simulator, *, server_url: str, credential_id: str | None, tools: list[JSON] | None
) -> JSON:
    """An assistant like the ones voiceops pushes: server URL, credential, function tools."""
    definitions = tools or [
        {"type": "function", "function": {"name": name, "description": f"{name} (load test)"}}
        for name in GENERIC_TOOLS
    ]
    server: JSON = {"url": server_url, "timeoutSeconds": 20}
    if credential_id:
        server["credentialId"] = credential_id
    body = {
        "name": "Load test",
        "firstMessage": "Hello, this is the load test assistant.",
        "model": {"provider": "openai", "model": "gpt-4o", "tools": definitions},
        "server": server,
        "serverMessages": [
            "status-update",
            "speech-update",
            "conversation-update",
            "transcript",
            "tool-calls",
            "hang",
            "end-of-call-report",
        ],
    }
    return sim.store.add("assistants", body)


def run_load(
    *,
    server_url: str,
    calls: int,
    seconds: float,
    config: SimulatorConfig | None = None,
    credential: JSON | None = None,
    tools: list[JSON] | None = None,
    drain_seconds: float = 30.0,
) -> LoadReport:
    """Run the load and return the report. ``credential`` is a webhook credential body (or None)."""
    config = config or SimulatorConfig(time_factor=60.0, mix="mix-answered", keep_bodies=False)
    config.keep_bodies = False
    # Calls are placed in-process (no REST client talks to this simulator): no key to check.
    config.allow_any_key = config.api_key is None
    config.concurrency_limit = max(config.concurrency_limit, calls * 2)
    sim = Simulator(config).start()
    report = LoadReport()
    report_lock = threading.Lock()

    def collect(delivery: Any) -> None:
        if delivery.injected:
            return
        with report_lock:
            report.deliveries += 1
            report.statuses[str(delivery.status or "error")] += 1
            report.latency_ms.setdefault(delivery.type, []).append(delivery.elapsed_ms)

    sim.deliverer.listeners.append(collect)
    try:
        credential_id = sim.store.add("credentials", credential)["id"] if credential else None
        assistant = load_assistant(sim, server_url=server_url, credential_id=credential_id, tools=tools)
        phone_id = sim.store.list("phone_numbers")[0]["id"]
        stop_at = time.monotonic() + seconds
        placed: list[str] = []
        lock = threading.Lock()

        def worker(index: int) -> None:
            n = 0
            while time.monotonic() < stop_at:
                body = {
                    "assistantId": assistant["id"],
                    "phoneNumberId": phone_id,
                    "customer": {"number": f"+1555{index:03d}{n % 10000:04d}"},
                }
                _, call = resources.call_create(sim, body)
                with lock:
                    placed.append(call["id"])
                player = sim.players.get(call["id"])
                if player is not None:
                    player.done.wait(max(stop_at - time.monotonic(), 0) + drain_seconds)
                n += 1

        started = time.monotonic()
        threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(seconds + drain_seconds + 5)
        elapsed = time.monotonic() - started
        report.seconds = elapsed
        report.unfinished = sum(1 for p in sim.all_players() if not p.done.is_set())
        report.calls = sum(1 for p in sim.all_players() if p.done.is_set())
        return report
    finally:
        sim.stop(wait=2.0)
