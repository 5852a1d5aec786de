"""A capture server standing in for voiceops's webhook: records every POST, answers like voiceops."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Captured:
    headers: dict[str, str]
    raw: bytes
    message: dict[str, Any]

    @property
    def type(self) -> str:
        return self.message.get("type", "")


def default_answer(message: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Answer tool-calls with one result per toolCallId, everything else with {}."""
    if message.get("type") == "tool-calls":
        return 200, {
            "results": [
                {
                    "toolCallId": item["id"],
                    "name": item["function"]["name"],
                    "result": f"{item['function']['name']} done: {json.dumps(item['function']['arguments'])}",
                }
                for item in message["toolCallList"]
            ]
        }
    return 200, {}


@dataclass
class CaptureServer:
    url: str
    received: list[Captured] = field(default_factory=list)
    answer: Callable[[dict[str, Any]], tuple[int, dict[str, Any]]] = default_answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def types(self, call_id: str | None = None) -> list[str]:
        with self.lock:
            return [
                c.type
                for c in self.received
                if call_id is None or c.message.get("call", {}).get("id") == call_id
            ]

    def of_type(self, kind: str) -> list[Captured]:
        with self.lock:
            return [c for c in self.received if c.type == kind]


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    state: dict[str, CaptureServer] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            server = state["server"]
            message = json.loads(raw)["message"]
            with server.lock:
                server.received.append(
                    Captured(
                        headers={k.lower(): v for k, v in self.headers.items()}, raw=raw, message=message
                    )
                )
            status, body = server.answer(message)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state["server"] = CaptureServer(url=f"http://127.0.0.1:{httpd.server_address[1]}/webhooks/vapi/")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state["server"]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
