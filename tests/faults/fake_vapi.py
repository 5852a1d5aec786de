"""A tiny fake of Vapi's REST API over real HTTP, for worker subprocesses.

``responses`` only patches the current process; a celery worker we start needs a server. This
one records every request (so a test can count dials per number) and can be told to hold a
request open (to kill a worker while it waits on Vapi) or to answer with an error.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import load_fixture


class FakeVapi:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.created: list[dict[str, Any]] = []
        self.hold = threading.Event()  # when set, POST /call blocks until released
        self.release = threading.Event()
        self.holding = threading.Event()  # set while a request is being held
        self.fail_status: int | None = None
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                with fake._lock:
                    fake.requests.append({"method": self.command, "path": self.path, "body": body})
                if fake.fail_status:
                    return self._answer(
                        fake.fail_status, {"message": "fake failure", "statusCode": fake.fail_status}
                    )
                if self.command == "POST" and self.path.startswith("/call"):
                    if fake.hold.is_set():
                        fake.holding.set()
                        fake.release.wait(timeout=60)
                    created = load_fixture("rest/call-created.json")
                    created["id"] = str(uuid.uuid4())
                    if isinstance(body, dict):
                        for key in ("customer", "name", "assistantId", "phoneNumberId", "assistantOverrides"):
                            if key in body:
                                created[key] = body[key]
                    with fake._lock:
                        fake.created.append(created)  # listed by GET /call, as Vapi would
                    return self._answer(201, created)
                if self.command == "POST":
                    return self._answer(201, {"id": str(uuid.uuid4()), **(body or {})})
                if self.command == "PATCH":
                    return self._answer(200, {"id": self.path.rsplit("/", 1)[-1], **(body or {})})
                if self.command == "GET" and self.path.split("?")[0] == "/call":
                    with fake._lock:
                        return self._answer(200, list(fake.created))
                return self._answer(200, [] if self.command == "GET" else {})

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def dials(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["method"] == "POST" and r["path"].startswith("/call")]

    def __enter__(self) -> FakeVapi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
