"""The simulator's in-memory Vapi org: assistants, calls, phone numbers, credentials, tools.

Why in memory: the simulator stands in for Vapi during a dev session or a test run, and
"reset on restart" is the behaviour tests want. One re-entrant lock guards every dict,
because the HTTP threads and the call players read and write the same objects; readers
get deep copies so a JSON encoder never sees a dict another thread is changing.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import threading
import time
import uuid
from typing import Any

JSON = dict[str, Any]

DEFAULT_ORG_ID = "5b0e3c1a-7d42-4f7e-9a31-2c8d6e4f1a90"
# Fixed namespace so a seeded phone number has the same id in every run (demo_setup relies on it).
PHONE_NAMESPACE = uuid.UUID("8f0d3c2e-6a41-4b7e-9c55-1d2e3f4a5b6c")


def uuid7() -> str:
    """A time-ordered UUID (version 7), like the ids Vapi hands out for calls."""
    millis = (time.time_ns() // 1_000_000) & ((1 << 48) - 1)
    rand_a = int.from_bytes(os.urandom(2), "big") & 0xFFF
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def phone_number_id_for(number: str) -> str:
    """The id the simulator gives a seeded number: stable across restarts."""
    return str(uuid.uuid5(PHONE_NAMESPACE, number))


def iso(moment: dt.datetime | float | None = None) -> str:
    """ISO 8601 UTC with milliseconds and a Z, the format of every Vapi timestamp."""
    if moment is None:
        moment = dt.datetime.now(dt.UTC)
    elif isinstance(moment, (int, float)):
        moment = dt.datetime.fromtimestamp(moment, dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: Any) -> dt.datetime | None:
    """Parse an ISO 8601 timestamp (with Z or offset); None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


class Store:
    """Everything the fake org holds. All mutation goes through methods holding ``lock``."""

    def __init__(self, *, org_id: str = DEFAULT_ORG_ID) -> None:
        self.org_id = org_id
        self.lock = threading.RLock()
        self.assistants: dict[str, JSON] = {}
        self.calls: dict[str, JSON] = {}
        self.phone_numbers: dict[str, JSON] = {}
        self.credentials: dict[str, JSON] = {}
        self.tools: dict[str, JSON] = {}

    # --- generic helpers ---------------------------------------------------------------------
    def _collection(self, kind: str) -> dict[str, JSON]:
        return getattr(self, kind)

    def add(self, kind: str, body: JSON, *, object_id: str | None = None) -> JSON:
        """Insert a new object with Vapi's bookkeeping fields and return a copy of it."""
        now = iso()
        obj = {
            **body,
            "id": object_id or str(uuid.uuid4()),
            "orgId": self.org_id,
            "createdAt": now,
            "updatedAt": now,
        }
        with self.lock:
            self._collection(kind)[obj["id"]] = obj
            return copy.deepcopy(obj)

    def get(self, kind: str, object_id: str) -> JSON | None:
        with self.lock:
            obj = self._collection(kind).get(object_id)
            return copy.deepcopy(obj) if obj is not None else None

    def update(self, kind: str, object_id: str, changes: JSON) -> JSON | None:
        """Shallow PATCH: top-level keys replace (nested objects are replaced whole)."""
        with self.lock:
            obj = self._collection(kind).get(object_id)
            if obj is None:
                return None
            obj.update(changes)
            obj["updatedAt"] = iso()
            return copy.deepcopy(obj)

    def delete(self, kind: str, object_id: str) -> JSON | None:
        with self.lock:
            obj = self._collection(kind).pop(object_id, None)
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, kind: str) -> list[JSON]:
        """Newest first, like Vapi's list endpoints."""
        with self.lock:
            items = [copy.deepcopy(o) for o in self._collection(kind).values()]
        items.sort(key=lambda o: o.get("createdAt", ""), reverse=True)
        return items

    # --- calls (the players mutate these while the API reads them) ---------------------------
    def call_patch(self, call_id: str, **changes: Any) -> JSON | None:
        """Apply fields to a live call; no-op when the call was deleted meanwhile."""
        with self.lock:
            call = self.calls.get(call_id)
            if call is None:
                return None
            call.update(changes)
            call["updatedAt"] = iso()
            return copy.deepcopy(call)

    def phone_number_by_number(self, number: str) -> JSON | None:
        with self.lock:
            for phone in self.phone_numbers.values():
                if phone.get("number") == number:
                    return copy.deepcopy(phone)
        return None

    def seed_phone_number(self, number: str, *, name: str = "", provider: str = "vapi") -> JSON:
        """A number the fake org already owns (as if bought in the dashboard)."""
        object_id = phone_number_id_for(number)
        existing = self.get("phone_numbers", object_id)
        if existing:
            return existing
        body: JSON = {
            "provider": provider,
            "number": number,
            "name": name or f"Simulator {number[-4:]}",
            "status": "active",
        }
        if provider == "twilio":
            body["twilioAccountSid"] = "AC5550000000000000000000000000c0de"
        return self.add("phone_numbers", body, object_id=object_id)

    def active_call_count(self, *, exclude: set[str] | frozenset[str] = frozenset()) -> int:
        with self.lock:
            return sum(
                1
                for call_id, c in self.calls.items()
                if c.get("status") in ("queued", "ringing", "in-progress", "forwarding")
                and call_id not in exclude
            )
