"""The simulator as an object: store + HTTP server + call players, startable in a thread.

``running_simulator(...)`` is the test entry point: it binds port 0 on 127.0.0.1 (a free
port chosen at run time), serves in a daemon thread and shuts down cleanly, waiting for
the players it started so no thread outlives the test.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog

from voiceops.simulator import validation as v
from voiceops.simulator.config import SimulatorConfig
from voiceops.simulator.delivery import Deliverer, Delivery
from voiceops.simulator.http import SimulatorServer
from voiceops.simulator.inbound import InboundPlayer
from voiceops.simulator.player import CallPlayer
from voiceops.simulator.scenarios import (
    OUTCOMES,
    OutcomeMix,
    Scenario,
    ScenarioError,
    load_mix,
    load_scenarios,
)
from voiceops.simulator.store import Store, uuid7

log = structlog.get_logger(__name__)
JSON = dict[str, Any]


def configured_api_key() -> str:
    """VAPI_API_KEY from Django settings: the key voiceops's client sends, so the two agree.

    Vapi refuses a wrong key; so does the simulator unless told to accept any."""
    from django.conf import settings

    key = str(getattr(settings, "VAPI_API_KEY", "") or "") if settings.configured else ""
    if not key:
        raise ValueError(
            "the simulator requires an API key like Vapi: set VAPI_API_KEY "
            "(or pass --api-key, or --allow-any-key to accept any key)"
        )
    return key


class Simulator:
    """A fake Vapi org. ``start()`` serves in a thread; ``serve_forever()`` in the caller's."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        if self.config.api_key is None and not self.config.allow_any_key:
            self.config = replace(self.config, api_key=configured_api_key())
        if self.config.time_factor <= 0:
            raise ValueError("time_factor must be positive")
        self.store = Store()
        self.rng = random.Random(self.config.seed)
        self.rng_lock = threading.Lock()
        self.deliverer = Deliverer(
            faults=self.config.faults,
            rng=random.Random(self.rng.random()),
            keep_bodies=self.config.keep_bodies,
            hmac_timestamp_unit=self.config.hmac_timestamp_unit,
        )
        directory = Path(self.config.scenario_dir) if self.config.scenario_dir else None
        self.scenarios: dict[str, Scenario] = load_scenarios(directory)
        if self.config.outcome and self.config.outcome not in OUTCOMES:
            raise ScenarioError(f"unknown outcome {self.config.outcome!r}; use one of {', '.join(OUTCOMES)}")
        if self.config.scenario and self.config.scenario not in self.scenarios:
            raise ScenarioError(
                f"unknown scenario {self.config.scenario!r}; have {', '.join(sorted(self.scenarios))}"
            )
        self.mix: OutcomeMix = load_mix(self.config.mix, directory)
        unknown = set(self.mix.callers) - set(self.scenarios)
        if unknown:
            raise ScenarioError(f"the mix names unknown scenarios: {', '.join(sorted(unknown))}")
        self.players: dict[str, CallPlayer] = {}
        self.players_lock = threading.Lock()
        # Admission: counting live calls and adding one happen under one lock, as at Vapi.
        self.admission_lock = threading.Lock()
        self.blocked: set[str] = set()  # calls refused by the concurrency limit (never live)
        self.peak_live = 0
        self.rate_window: list[float] = []
        for number in self.config.phone_numbers:
            self.store.seed_phone_number(number)
        self.httpd: SimulatorServer | None = None
        self.thread: threading.Thread | None = None
        # When set (e.g. 429 or 503), every REST request is answered with this status: the
        # fault switch of chaos runs (bench/soak.py). Server messages are unaffected.
        self.api_outage: int | None = None

    # --- lifecycle ---------------------------------------------------------------------------
    def bind(self) -> SimulatorServer:
        if self.httpd is None:
            self.httpd = SimulatorServer((self.config.host, self.config.port), self)
        return self.httpd

    @property
    def port(self) -> int:
        return self.bind().server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    def start(self) -> Simulator:
        server = self.bind()
        self.thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="vapi-simulator", daemon=True
        )
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.bind().serve_forever(poll_interval=0.2)

    def stop(self, *, wait: float = 5.0) -> None:
        for player in self.all_players():
            player.cancelled.set()
        self.wait_for_calls(timeout=wait)
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=wait)

    # --- players -----------------------------------------------------------------------------
    def rng_for(self, call_id: str) -> random.Random:
        with self.rng_lock:
            return random.Random(self.rng.random())

    def draw(self) -> tuple[str, str, Scenario, dict[str, Any]]:
        """Outcome, ended reason, caller scenario and its vars for the next outbound call."""
        with self.rng_lock:
            outcome, reason, caller = self.mix.draw(self.rng)
        forced = bool(self.config.scenario)
        if self.config.scenario:
            outcome, reason, caller = "answered", "", self.config.scenario
        if self.config.outcome and self.config.outcome != outcome:
            outcome = self.config.outcome
            reasons = self.mix.ended_reasons.get(outcome) or [""]
            reason = reasons[0] if outcome != "answered" else ""
        variables = {} if forced else self.mix.caller_vars.get(caller, {})
        return outcome, reason, self.scenarios[caller], variables

    def start_call(
        self, call_id: str, *, inbound: bool = False, scenario: str | None = None
    ) -> CallPlayer | None:
        if not self.config.play_calls:
            return None
        outcome, reason, drawn, variables = self.draw()
        if inbound:
            outcome, reason = "answered", ""
        if scenario:
            drawn, variables = self.scenarios[scenario], {}
        cls = InboundPlayer if inbound else CallPlayer
        player = cls(
            self, call_id, outcome=outcome, ended_reason=reason, scenario=drawn, scenario_vars=variables
        )
        with self.players_lock:
            self.players[call_id] = player
        threading.Thread(target=player.run, name=f"call-{call_id[:8]}", daemon=True).start()
        log.debug(
            "simulator.call.started", call_id=call_id, outcome=outcome, scenario=drawn.name, inbound=inbound
        )
        return player

    def cancel_call(self, call_id: str) -> None:
        with self.players_lock:
            player = self.players.get(call_id)
        if player is not None:
            player.cancelled.set()

    def all_players(self) -> list[CallPlayer]:
        with self.players_lock:
            return list(self.players.values())

    def wait_for_calls(self, timeout: float = 30.0, call_ids: list[str] | None = None) -> bool:
        """Block until the players (all, or those of ``call_ids``) have sent their last message."""
        deadline = time.monotonic() + timeout
        while True:
            with self.players_lock:
                players = [p for cid, p in self.players.items() if call_ids is None or cid in call_ids]
            if call_ids is not None and len(players) < len(call_ids):
                players = players  # not yet started: keep waiting
            pending = [p for p in players if not p.done.is_set()]
            if not pending and (call_ids is None or len(players) == len(call_ids)):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if pending:
                pending[0].done.wait(min(remaining, 0.5))
            else:
                time.sleep(min(remaining, 0.05))

    def live_calls(self) -> int:
        """Calls holding one of the org's concurrency slots right now (inbound and outbound)."""
        return self.store.active_call_count(exclude=self.blocked)

    def over_concurrency(self, call_id: str) -> bool:
        return call_id in self.blocked

    def admit(self, add: Any) -> tuple[JSON, bool]:
        """Create a call with ``add()`` unless the org is at its limit; then it is created blocked
        (Vapi answers 201 with ``subscriptionLimits.concurrencyBlocked`` and the call ends with
        ``call.start.error-subscription-concurrency-limit-reached`` without ringing)."""
        with self.admission_lock:
            blocked = self.live_calls() >= self.config.concurrency_limit
            created = add()
            if blocked:
                self.blocked.add(str(created["id"]))
            else:
                self.peak_live = max(self.peak_live, self.live_calls())
        return created, blocked

    def subscription_limits(self, *, blocked: bool = False) -> JSON:
        active = self.live_calls()
        limit = self.config.concurrency_limit
        return {
            "concurrencyBlocked": blocked,
            "concurrencyLimit": limit,
            "remainingConcurrentCalls": max(limit - active, 0),
        }

    def rate_limited(self) -> float | None:
        """Seconds to wait when POST /call is over ``call_rate_limit`` (a one-second window), else None."""
        rate = self.config.call_rate_limit
        if not rate:
            return None
        now = time.monotonic()
        with self.admission_lock:
            self.rate_window = [t for t in self.rate_window if now - t < 1.0]
            if len(self.rate_window) >= rate:
                return max(1.0 - (now - self.rate_window[0]), 0.001)
            self.rate_window.append(now)
        return None

    def campaign_predial(
        self, *, campaign_id: str, contact: JSON, server: JSON | None = None, timeout: float = 20.0
    ) -> Any:
        """Vapi asks the campaign's server before dialling a contact (``campaign.predial``, sent when
        the campaign's ``predialPlan`` is enabled). Returns the parsed answer; only
        ``{"eligible": true}`` lets Vapi dial, anything else is a pre-dial failure."""
        server = server or ({"url": self.config.server_url} if self.config.server_url else {})
        if not server.get("url"):
            raise ValueError("campaign.predial needs a server URL")
        now = time.time()
        message: JSON = {
            "type": "campaign.predial",
            "timestamp": int(now * 1000),
            "campaignId": campaign_id,
            "contact": {"id": uuid7(), "campaignId": campaign_id, "orgId": "sim-org", **contact},
        }
        credential = (
            self.store.get("credentials", server["credentialId"]) if server.get("credentialId") else None
        )
        delivery = self.deliverer.post(
            call_id="",
            message=message,
            url=server["url"],
            server=server,
            credential=credential,
            default_secret=self.config.secret,
            timeout=timeout,
        )
        return delivery.response

    def monitor_urls(self, call_id: str) -> JSON:
        base = self.base_url
        return {
            "listenUrl": f"{base.replace('http', 'ws', 1)}/{call_id}/listen",
            "controlUrl": f"{base}/{call_id}/control",
        }

    def control(self, call_id: str, body: Any) -> JSON:
        """``POST {monitor.controlUrl}``: say, end-call or transfer on a live call (queued for its player)."""
        body = v.check_object(body)
        if self.store.get("calls", call_id) is None:
            raise v.not_found("Call not found")
        with self.players_lock:
            player = self.players.get(call_id)
        if player is None or player.done.is_set() or player.ending:
            raise v.bad_request("Call is not active.")
        kind = body.get("type")
        if kind == "say" and not (isinstance(body.get("content"), str) and body["content"].strip()):
            raise v.bad_request(["content must be a non-empty string"])
        if kind == "transfer":
            destination = body.get("destination")
            if not isinstance(destination, dict) or destination.get("type") not in ("number", "sip"):
                raise v.bad_request(["destination must be a number or sip destination"])
        if kind not in ("say", "end-call", "transfer"):
            raise v.bad_request([f"type must be one of say, end-call, transfer (got {kind!r})"])
        player.control(body)
        return {}

    def deliveries(self, call_id: str | None = None) -> list[Delivery]:
        items = self.deliverer.deliveries()
        return [d for d in items if call_id is None or d.call_id == call_id]

    # --- inbound -----------------------------------------------------------------------------
    def simulate_inbound(
        self, *, from_number: str, to_number: str, scenario: str | None = None, name: str | None = None
    ) -> JSON:
        """A caller dials one of the org's numbers: the call is created and played like Vapi would."""
        if not v.E164.match(from_number or ""):
            raise v.bad_request(["from must be a valid phone number in the E.164 format."])
        if scenario and scenario not in self.scenarios:
            raise v.bad_request([f"unknown scenario {scenario}; have {', '.join(sorted(self.scenarios))}"])
        phone = self.store.phone_number_by_number(to_number)
        if phone is None:
            raise v.not_found(f"Phone number {to_number} is not in this org")
        call: JSON = {
            "type": "inboundPhoneCall",
            "phoneNumberId": phone["id"],
            "status": "ringing",
            "phoneCallProvider": "twilio",
            "phoneCallProviderId": f"CA{uuid7().replace('-', '')}",
            "phoneCallTransport": "pstn",
            "customer": {"number": from_number, **({"name": name} if name else {})},
            "cost": 0,
        }
        if phone.get("assistantId"):
            call["assistantId"] = phone["assistantId"]
        call_id = uuid7()
        call["monitor"] = self.monitor_urls(call_id)
        created, _ = self.admit(lambda: self.store.add("calls", call, object_id=call_id))
        self.start_call(call_id, inbound=True, scenario=scenario)
        return created

    def inbound_from_api(self, body: Any) -> JSON:
        body = v.check_object(body)
        return self.simulate_inbound(
            from_number=str(body.get("from") or ""),
            to_number=str(body.get("to") or ""),
            scenario=body.get("scenario"),
            name=body.get("name"),
        )


@contextlib.contextmanager
def running_simulator(config: SimulatorConfig | None = None, **overrides: Any) -> Iterator[Simulator]:
    """``with running_simulator(server_url=..., secret=..., time_factor=200) as sim: sim.base_url``."""
    config = replace(config or SimulatorConfig(), **overrides)
    sim = Simulator(config).start()
    try:
        yield sim
    finally:
        sim.stop()
