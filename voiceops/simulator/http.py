"""The HTTP front of the simulator: routing, bearer auth and NestJS-style error bodies.

``ThreadingHTTPServer`` with HTTP/1.1 keep-alive, because the SDK (httpx) and voiceops's
client (requests) both reuse connections. Every request is answered with JSON, every
failure with Vapi's error shape; nothing a client sends can crash the server.
"""

from __future__ import annotations

import hmac
import json
import re
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import structlog

from voiceops.simulator import resources as r
from voiceops.simulator.messages import silent_wav
from voiceops.simulator.validation import ApiError, bad_request

if TYPE_CHECKING:
    from voiceops.simulator.runner import Simulator

log = structlog.get_logger(__name__)
MAX_BODY = 10 * 1024 * 1024
INVALID_KEY = (
    "Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa."
)
COLLECTIONS = {
    "assistant": "assistants",
    "call": "calls",
    "phone-number": "phone_numbers",
    "credential": "credentials",
    "tool": "tools",
}
CREATE = {
    "assistant": r.assistant_create,
    "call": r.call_create,
    "credential": r.credential_create,
    "tool": r.tool_create,
    "phone-number": r.phone_number_create,
}
UPDATE = {
    "assistant": r.assistant_update,
    "call": r.call_update,
    "credential": r.credential_update,
    "tool": r.tool_update,
    "phone-number": r.phone_number_update,
}
LIST_EXACT = {"call": ("id", "assistantId", "phoneNumberId")}
ROUTE = re.compile(r"^/(?:v1/)?(assistant|call|phone-number|credential|tool)(?:/([^/]+))?/?$")
CONTROL = re.compile(r"^/([0-9a-f-]{36})/control/?$")
RECORDING = re.compile(r"^/recordings/[0-9a-f-]+-(mono|stereo|assistant|customer)\.wav$")


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sim: Simulator) -> None:
        self.sim = sim
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    server: SimulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "vapi-simulator/1.0"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without NODELAY, Nagle + delayed ACK add 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("simulator.http", line=format % args)

    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def do_PATCH(self) -> None:
        self.dispatch("PATCH")

    def do_DELETE(self) -> None:
        self.dispatch("DELETE")

    def do_PUT(self) -> None:
        self.dispatch("PUT")

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def read_raw(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "request entity too large")
        return self.rfile.read(length) if length > 0 else b""

    @staticmethod
    def parse_body(raw: bytes) -> Any:
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise bad_request(f"Unexpected token in JSON at position {getattr(exc, 'pos', 0)}")

    def authorised(self) -> bool:
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        config = self.server.sim.config
        if config.allow_any_key:
            return True
        return config.api_key is not None and hmac.compare_digest(
            token.strip().encode(), config.api_key.encode()
        )

    def dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = dict(parse_qsl(parts.query))
        try:
            if method == "GET" and RECORDING.match(path):
                self.send_wav()
                return
            if method == "GET" and path == "/simulator/health":
                self.send_json(200, {"status": "ok", "calls": len(self.server.sim.store.calls)})
                return
            raw = self.read_raw()
            control = CONTROL.match(path)
            if control and method == "POST":
                # Like Vapi's call host: the control URL itself is the credential (no bearer key).
                self.send_json(200, self.server.sim.control(control.group(1), self.parse_body(raw)))
                return
            if not self.authorised():
                raise ApiError(401, INVALID_KEY)
            outage = self.server.sim.api_outage
            if outage and path != "/simulator/inbound":
                # An operator-flipped fault (soak, chaos tests): Vapi rate-limiting or failing.
                raise ApiError(outage, "Too Many Requests" if outage == 429 else "Service Unavailable")
            body = self.parse_body(raw) if method in ("POST", "PATCH", "PUT") else None
            status, answer = self.route(method, path, query, body)
            self.send_json(status, answer)
        except ApiError as exc:
            self.send_json(exc.status, exc.body(), exc.headers)
        except Exception:  # noqa: BLE001 - answer like Vapi's 500, keep serving
            log.exception("simulator.http.error", method=method, path=path)
            self.send_json(500, ApiError(500, "Internal server error").body())

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        sim = self.server.sim
        if path == "/simulator/inbound" and method == "POST":
            return 201, sim.inbound_from_api(body)
        match = ROUTE.match(path)
        if not match:
            raise ApiError(404, f"Cannot {method} {path}")
        resource, object_id = match.group(1), match.group(2)
        kind = COLLECTIONS[resource]
        if object_id is None:
            if method == "POST" and resource in CREATE:
                return CREATE[resource](sim, body)
            if method == "GET":
                return 200, r.filtered(sim.store.list(kind), query, exact=LIST_EXACT.get(resource, ()))
        else:
            if method == "GET":
                return 200, r.fetch(sim, kind, object_id)
            if method == "PATCH" and resource in UPDATE:
                return UPDATE[resource](sim, object_id, body)
            if method == "DELETE":
                if resource == "call":
                    return r.call_delete(sim, object_id)
                r.fetch(sim, kind, object_id)
                return 200, sim.store.delete(kind, object_id)
        raise ApiError(404, f"Cannot {method} {path}")

    def send_wav(self) -> None:
        data = silent_wav()
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
