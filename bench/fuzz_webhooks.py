"""Fuzzing POST /webhooks/vapi/ that checks processing, not only status codes (issue 20).

Each input is a real-shaped message (a fixture from tests/fixtures/vapi, or a tool-calls
message calling our own tools) with one to four mutations: a field deleted, nulled,
retyped, stretched, or its text (or key) laced with control characters, NUL, lone
surrogates and other unicode. Every input is posted in-process through Django's test
client; then every ledger row it created is processed (if the eager Celery publish did
not already) and must end ``processed`` or ``ignored`` with no error, and nothing may log
an ERROR while it is handled (a tool apology for a crash, a failed hook).

Run (a private ``<your database>_fuzz`` database is created and migrated):

    .venv/bin/python bench/fuzz_webhooks.py --count 100000 [--seed 20] [--workers 2]

It prints inputs tried, the status codes, 5xx and processing failures (with the first
examples), and exits non-zero when either is not 0. The test suite runs a small count
(tests/fuzz/test_payload_fuzz.py).
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import multiprocessing
import os
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "vapi"
URL = "/webhooks/vapi/"
SECRET = "fuzz-secret-5c1e"

HOSTILE = [
    "\x00",
    "\x00\x00\x00",
    "\x01",
    "\x08",
    "\x1b[31m",
    "\x7f",
    "\r\n",
    "\t",
    "\u2028",
    "\u202e",
    "\ufeff",
    "\ufffd",
    "\uffff",
    "\ud800",
    "\udfff",
    "\U0001f600",
    "e\u0301\u0301\u0301",
    "\u0645\u0631\u062d\u0628\u0627",
    "\u4f60\u597d",
    "\\",
    '"',
    "'; DROP TABLE calls_call; --",
    "%s%n",
    "{}",
    "<script>",
    "../../etc/passwd",
]
RETYPED: list[Any] = [
    None,
    0,
    -1,
    2**63,
    -(2**70),
    1.5e308,
    -0.0,
    1e-320,
    True,
    False,
    "",
    "x",
    "2025-13-45T99:99:99Z",
    "1700000000000",
    "NaN",
    "null",
    [],
    {},
    [None],
    {"": None},
    [1, "a", {}],
]
TOOL_ARGUMENTS: list[tuple[str, dict[str, Any]]] = [
    ("check_availability", {"date": "2031-03-17"}),
    ("check_availability", {"count": 3, "time_zone": "America/New_York"}),
    ("book_appointment", {"date": "2031-03-17", "time": "09:30", "name": "Dana Reyes", "notes": "Checkup"}),
    ("cancel_appointment", {"confirmation_code": "ABC123"}),
    ("reschedule_appointment", {"confirmation_code": "ABC123", "date": "2031-03-18", "time": "10:00"}),
    ("get_customer_info", {}),
    ("opt_out", {"reason": "Please stop calling"}),
    ("lookup_order_status", {"order_number": "NW-48213"}),
]


def fixture_documents() -> dict[str, dict[str, Any]]:
    """The fixtures (every message type we have a real body for), by name."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(FIXTURES.glob("*.json"))
        if path.name != "ended-reasons.json"
    }


def paths(document: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys/indexes) in ``document``, the root excluded."""
    found: list[tuple] = []
    stack = [(document, prefix)]
    while stack:
        node, at = stack.pop()
        if at:
            found.append(at)
        if isinstance(node, dict):
            stack.extend((value, (*at, key)) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, (*at, index)) for index, value in enumerate(node))
    return found


def _parent(document: Any, path: tuple) -> Any:
    for key in path[:-1]:
        document = document[key]
    return document


class Mutator:
    """Real-shaped payloads with random damage; deterministic for a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.documents = fixture_documents()
        self.names = sorted(self.documents)
        self.recent_calls: list[str] = []
        self.ops = [
            (self.delete, 3),
            (self.null, 2),
            (self.retype, 3),
            (self.transplant, 2),
            (self.stretch, 2),
            (self.lace_text, 5),
            (self.lace_key, 1),
        ]

    # --- building a base message ----------------------------------------------------------
    def base(self) -> dict[str, Any]:
        rng = self.rng
        name = rng.choice([*self.names, "tool-calls.json", "tool-calls.json"])
        document = copy.deepcopy(self.documents[name])
        message = document["message"]
        call = message.get("call") if isinstance(message.get("call"), dict) else None
        if call is not None:
            # Mostly new calls; sometimes an event for a call already seen (duplicates, reorder).
            if self.recent_calls and rng.random() < 0.3:
                call["id"] = rng.choice(self.recent_calls)
            else:
                call["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                self.recent_calls = [*self.recent_calls[-50:], call["id"]]
        if isinstance(message.get("timestamp"), int):
            message["timestamp"] += rng.randrange(-60_000, 60_000)
        if name == "tool-calls.json":
            self._own_tools(message)
        return document

    def _own_tools(self, message: dict[str, Any]) -> None:
        """Call the tools we ship, with plausible arguments, as object or JSON string."""
        rng = self.rng
        calls = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            tool, arguments = rng.choice(TOOL_ARGUMENTS)
            arguments = dict(arguments)
            calls.append(
                {
                    "id": f"call_{rng.getrandbits(96):024x}",
                    "type": "function",
                    "function": {
                        "name": tool,
                        "arguments": json.dumps(arguments) if rng.random() < 0.3 else arguments,
                    },
                }
            )
        message["toolCallList"] = calls
        message.pop("toolWithToolCallList", None)
        message.pop("toolCalls", None)

    # --- mutations ------------------------------------------------------------------------
    def _path(self, document: dict[str, Any]) -> tuple:
        return self.rng.choice(paths(document))

    def delete(self, document: dict[str, Any]) -> None:
        path = self._path(document)
        parent = _parent(document, path)
        del parent[path[-1]]

    def null(self, document: dict[str, Any]) -> None:
        path = self._path(document)
        _parent(document, path)[path[-1]] = None

    def retype(self, document: dict[str, Any]) -> None:
        path = self._path(document)
        _parent(document, path)[path[-1]] = copy.deepcopy(self.rng.choice(RETYPED))

    def transplant(self, document: dict[str, Any]) -> None:
        """A real value from elsewhere (any fixture) in the wrong place."""
        other = self.documents[self.rng.choice(self.names)]
        source = self.rng.choice(paths(other))
        value = other
        for key in source:
            value = value[key]
        path = self._path(document)
        _parent(document, path)[path[-1]] = copy.deepcopy(value)

    def stretch(self, document: dict[str, Any]) -> None:
        path = self._path(document)
        parent = _parent(document, path)
        value = parent[path[-1]]
        rng = self.rng
        if isinstance(value, str):
            parent[path[-1]] = (value or "x") * rng.choice([10, 100, 1000, 20_000 // max(1, len(value))])
        elif isinstance(value, list):
            parent[path[-1]] = value * rng.choice([2, 10, 100])
        elif isinstance(value, dict):
            value.update({f"extra{i}": "v" * i for i in range(rng.choice([5, 50]))})
        elif isinstance(value, bool) or value is None:
            parent[path[-1]] = "yes" * 100
        elif isinstance(value, int | float):
            parent[path[-1]] = rng.choice([10**30, -(10**30), 2**64, 1e300, -1e-300])

    def _laced(self, text: str) -> str:
        rng = self.rng
        for _ in range(rng.choice([1, 1, 2, 5])):
            at = rng.randrange(len(text) + 1)
            text = text[:at] + rng.choice(HOSTILE) + text[at:]
        return text

    def lace_text(self, document: dict[str, Any]) -> None:
        strings = [p for p in paths(document) if isinstance(_parent(document, p)[p[-1]], str)]
        for path in self.rng.sample(strings, min(len(strings), self.rng.choice([1, 1, 3, 10]))):
            parent = _parent(document, path)
            parent[path[-1]] = self._laced(parent[path[-1]])

    def lace_key(self, document: dict[str, Any]) -> None:
        keyed = [p for p in paths(document) if isinstance(p[-1], str)]
        path = self.rng.choice(keyed)
        parent = _parent(document, path)
        parent[self._laced(path[-1])] = parent.pop(path[-1])

    # --- the payload ----------------------------------------------------------------------
    def payload(self) -> bytes:
        rng = self.rng
        document = self.base()
        weights = [weight for _, weight in self.ops]
        for _ in range(rng.choice([1, 1, 2, 3, 4])):
            operation = rng.choices([op for op, _ in self.ops], weights)[0]
            try:
                operation(document)
            except (IndexError, KeyError, TypeError, ValueError):
                continue  # the path vanished under an earlier mutation
        if not isinstance(document, dict):
            document = {"message": document}
        try:
            return json.dumps(document, ensure_ascii=rng.random() < 0.5).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate can only travel as an escape
            return json.dumps(document).encode("utf-8")


@dataclass
class Tally:
    """What the run saw: inputs, status codes, and every processing failure (first examples kept)."""

    inputs: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    events_stored: int = 0
    event_states: Counter[str] = field(default_factory=Counter)
    failures: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def failed(self, body: bytes, **detail: Any) -> None:
        self.failures += 1
        if len(self.examples) < 10:
            self.examples.append({**detail, "body": body[:600].decode("utf-8", "replace")})


class _ErrorLog(logging.Handler):
    """Counts ERROR records (log.exception included) while an input is handled."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.msg if isinstance(record.msg, dict) else {"event": record.getMessage()}
        text = str(message.get("event", record.getMessage()))[:200]
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({type(record.exc_info[1]).__name__}: {str(record.exc_info[1])[:300]})"
        self.records.append(text)


def fuzz(*, count: int, seed: int, client: Any, headers: dict[str, str], progress_every: int = 0) -> Tally:
    """Post ``count`` mutated payloads through ``client`` and check how each was processed.

    The ledger row of an input is found by its dedupe key (what the view stores it under),
    so runs in parallel processes do not see each other's rows.
    """
    from django.conf import settings

    from calls.enums import EventState
    from calls.models import WebhookEvent
    from calls.services.events import webhook_event_process
    from voiceops.vapi.messages import EnvelopeError, parse_server_message

    mutator = Mutator(seed)
    tally = Tally()
    errors = _ErrorLog()
    logging.getLogger().addHandler(errors)
    client.raise_request_exception = False
    try:
        for _ in range(count):
            body = mutator.payload()
            errors.records.clear()
            response = client.post(URL, data=body, content_type="application/json", headers=headers)
            tally.inputs += 1
            tally.statuses[response.status_code] += 1
            if progress_every and tally.inputs % progress_every == 0:
                print(f"[seed {seed}] {tally.inputs}/{count} inputs, {tally.failures} failures", flush=True)
            try:
                key = parse_server_message(body, max_depth=settings.VAPI_WEBHOOK_MAX_DEPTH).dedupe_key(body)
            except EnvelopeError:
                key = None
            row = WebhookEvent.objects.filter(dedupe_key=key).values("id", "state").first() if key else None
            if row is not None and row["state"] == EventState.RECEIVED:
                webhook_event_process(event_id=row["id"])  # when the eager publish did not run
            if row is not None:
                row = WebhookEvent.objects.filter(pk=row["id"]).values(
                    "id", "message_type", "state", "error"
                )[0]
                tally.events_stored += 1
                tally.event_states[row["state"]] += 1
            bad = row is not None and (
                row["state"] not in (EventState.PROCESSED, EventState.IGNORED) or bool(row["error"])
            )
            if response.status_code >= 500:
                tally.failed(body, status=response.status_code, response=response.content[:300].decode())
            elif bad or errors.records:
                tally.failed(body, event=row if bad else None, logged=errors.records[:3])
    finally:
        logging.getLogger().removeHandler(errors)
    return tally


def merged(tallies: list[Tally]) -> Tally:
    total = Tally()
    for part in tallies:
        total.inputs += part.inputs
        total.statuses.update(part.statuses)
        total.events_stored += part.events_stored
        total.event_states.update(part.event_states)
        total.failures += part.failures
        total.examples += part.examples[: max(0, 10 - len(total.examples))]
    return total


def _worker(job: tuple[int, int]) -> Tally:
    """One process's share (fork: settings and database are set up by the parent)."""
    from django.db import connections
    from django.test import Client

    count, seed = job
    connections.close_all()
    return fuzz(
        count=count, seed=seed, client=Client(), headers={"X-Vapi-Secret": SECRET}, progress_every=5000
    )


def report(tally: Tally, seconds: float) -> str:
    lines = [
        f"inputs tried            {tally.inputs}",
        f"answers                 {dict(sorted(tally.statuses.items()))}",
        f"events stored           {tally.events_stored}  {dict(tally.event_states)}",
        f"5xx                     {tally.server_errors}",
        f"processing failures     {tally.failures}",
        f"time                    {seconds:.0f} s ({tally.inputs / max(seconds, 1e-9):.0f} inputs/s)",
    ]
    for example in tally.examples:
        lines.append("  example: " + json.dumps(example)[:1500])
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="processes posting in parallel")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench.chaos.database import dotenv, private_database

    if "REDIS_URL" in dotenv():
        os.environ.setdefault("REDIS_URL", dotenv()["REDIS_URL"])
    os.environ.update(
        {
            "DATABASE_URL": private_database("fuzz", fast_commits=True),
            "DJANGO_SETTINGS_MODULE": "voiceops.settings",
            "SECRET_KEY": "fuzz-only-secret-key",
            "DEBUG": "0",
            "SECURE_SSL_REDIRECT": "0",
            "VAPI_WEBHOOK_SECRET": SECRET,
            "VAPI_BASE_URL": "http://127.0.0.1:9",  # nothing should call Vapi; if it does, it fails fast
            "VAPI_RETRIES": "0",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "LOG_LEVEL": "ERROR",  # errors are what the run looks for
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from tests.factories import ResourceFactory

    setup_test_environment()
    call_command("migrate", verbosity=0)
    ResourceFactory(name="Dr. Patel", time_zone="America/New_York", slot_minutes=30)
    started = time.monotonic()
    if args.workers <= 1:
        tally = fuzz(count=args.count, seed=args.seed, client=Client(), headers={"X-Vapi-Secret": SECRET})
    else:
        from django.db import connections

        connections.close_all()
        shares = [args.count // args.workers + (i < args.count % args.workers) for i in range(args.workers)]
        with multiprocessing.get_context("fork").Pool(args.workers) as pool:
            tally = merged(pool.map(_worker, [(n, args.seed * 1000 + i) for i, n in enumerate(shares)]))
    print(report(tally, time.monotonic() - started))
    return 1 if tally.server_errors or tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
