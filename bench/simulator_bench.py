"""The simulator's own figures: how fast a call plays, and how much load it can drive.

    .venv/bin/python bench/simulator_bench.py [--calls 20] [--seconds 5] [--server-url URL]

1. Time factor: one booking call (check_availability + book_appointment) at time factor 180,
   real seconds vs the call's simulated length ("a 3-minute call in about a second").
2. Load: N concurrent calls for M seconds (``vapi_simulator load``) against a capture server
   that answers like voiceops (or against --server-url, e.g. a running voiceops webhook).
Everything binds 127.0.0.1 on ports chosen at run time. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voiceops.simulator.config import SimulatorConfig  # noqa: E402
from voiceops.simulator.load import run_load  # noqa: E402
from voiceops.simulator.resources import call_create  # noqa: E402
from voiceops.simulator.runner import running_simulator  # noqa: E402


class Answerer(BaseHTTPRequestHandler):
    """Stands in for voiceops: 200 {} to everything, one result per tool call."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        message = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))["message"]
        body: dict[str, Any] = {}
        if message.get("type") == "tool-calls":
            body = {
                "results": [
                    {"toolCallId": c["id"], "name": c["function"]["name"], "result": "Done."}
                    for c in message["toolCallList"]
                ]
            }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def time_factor_figure(url: str) -> None:
    tools = [
        {"type": "function", "function": {"name": n}} for n in ("check_availability", "book_appointment")
    ]
    # Calls are placed in-process, no REST client: no API key to check.
    with running_simulator(time_factor=180, scenario="books-appointment", seed=1, allow_any_key=True) as sim:
        assistant = sim.store.add(
            "assistants",
            {"name": "Bench", "server": {"url": url}, "model": {"provider": "openai", "tools": tools}},
        )
        phone = sim.store.list("phone_numbers")[0]["id"]
        started = time.monotonic()
        _, call = call_create(
            sim,
            {"assistantId": assistant["id"], "phoneNumberId": phone, "customer": {"number": "+15555550123"}},
        )
        sim.wait_for_calls(timeout=60)
        real = time.monotonic() - started
        report = next(d for d in sim.deliveries(call["id"]) if d.type == "end-of-call-report")
        connected = json.loads(report.body)["message"]["durationSeconds"]
        timeline = sim.players[call["id"]].t
        messages = len(sim.deliveries(call["id"]))
    print("== time factor 180: one booking call (check_availability + book_appointment)")
    print(
        f"simulated timeline {timeline:.1f} s (connected {connected:.1f} s), {messages} messages, "
        f"played in {real:.2f} s real"
    )
    print(f"=> {real * 180 / timeline:.2f} s real per 3 simulated minutes")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--time-factor", type=float, default=60.0)
    parser.add_argument("--server-url", default=None)
    args = parser.parse_args()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answerer)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = args.server_url or f"http://127.0.0.1:{httpd.server_address[1]}/webhooks/vapi/"
    try:
        time_factor_figure(url)
        target = url if args.server_url else "a capture server"
        print(
            f"\n== load: {args.calls} concurrent calls for {args.seconds:.0f} s, "
            f"time factor {args.time_factor:.0f} -> {target}"
        )
        config = SimulatorConfig(
            time_factor=args.time_factor, mix="mix-answered", seed=1, secret="bench-secret"
        )
        report = run_load(server_url=url, calls=args.calls, seconds=args.seconds, config=config)
        for line in report.lines():
            print(line)
    finally:
        httpd.shutdown()


if __name__ == "__main__":
    main()
