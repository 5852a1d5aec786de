"""Everything that shapes a simulator run, in one dataclass (the command's options map onto it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from voiceops.simulator.delivery import Faults


@dataclass
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0
    # The bearer key the REST API requires, as Vapi does. None: the configured VAPI_API_KEY.
    api_key: str | None = None
    # Accept any non-empty key (a sandbox Vapi does not offer; opt in explicitly).
    allow_any_key: bool = False
    # Where messages go when neither the assistant nor the phone number has a server URL.
    server_url: str | None = None
    # Sent as x-vapi-secret when the resolved server has no secret and no credential.
    secret: str | None = None
    # Scenario seconds per real second: 180 plays a 3-minute call in about one second.
    time_factor: float = 1.0
    seed: int | None = None
    # Every outbound call is answered and plays this scenario; None draws outcome and caller from the mix.
    scenario: str | None = None
    # Force one outbound outcome (answered, busy, no-answer, voicemail, failed) instead of drawing it.
    outcome: str | None = None
    mix: str = "mix-default"
    scenario_dir: str | None = None
    faults: Faults = field(default_factory=Faults)
    # Real seconds without a tool answer before Vapi sends ``hang``.
    hang_after: float = 1.5
    # Send an end-of-call-report also for calls that never connected (UNCONFIRMED in Vapi).
    report_unconnected: bool = True
    # Vapi's default org concurrency (CONTRACT §9): calls over it are refused (concurrencyBlocked).
    concurrency_limit: int = 10
    # POST /call requests per second before Vapi's rate limit answers 429 with Retry-After; None: off.
    call_rate_limit: float | None = None
    # Numbers the fake org owns from the start (ids are stable: store.phone_number_id_for).
    phone_numbers: list[str] = field(default_factory=lambda: ["+12125550100"])
    hmac_timestamp_unit: str = "s"
    keep_bodies: bool = True
    # What the person a call is transferred to does: answered, operator-busy or no-answer.
    transfer_outcome: str = "answered"
    # Start a player for calls created through the API (off: REST only, e.g. SDK tests).
    play_calls: bool = True
