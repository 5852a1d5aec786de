"""``manage.py vapi_simulator``: run the local Vapi stand-in, place an inbound call, or drive load.

    manage.py vapi_simulator --port 8200 [--time-factor 10 --seed 7 ...]
    manage.py vapi_simulator simulate-inbound --from +15555550123 --to +12125550100
    manage.py vapi_simulator load --calls 20 --seconds 30 --server-url http://127.0.0.1:8000/webhooks/vapi/

The server's defaults come from settings: messages go to PUBLIC_BASE_URL/webhooks/vapi/
when no assistant or phone number names a server URL, signed with the first
VAPI_WEBHOOK_SECRET, so a voiceops started with the same .env accepts them.
"""

from __future__ import annotations

import argparse
import json
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from voiceops.simulator.config import SimulatorConfig
from voiceops.simulator.delivery import Faults
from voiceops.simulator.load import run_load
from voiceops.simulator.runner import Simulator
from voiceops.simulator.scenarios import ScenarioError


def default_server_url() -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/webhooks/vapi/"


def default_secret() -> str | None:
    return settings.VAPI_WEBHOOK_SECRET[0] if settings.VAPI_WEBHOOK_SECRET else None


def add_play_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """Options shared by the server and the load tool: how calls play and which faults occur.

    On a subcommand they are added with SUPPRESS defaults, so ``load --server-url X`` and
    ``--server-url X load`` both work without the subparser resetting the value.
    """

    def add(*args: Any, **kwargs: Any) -> None:
        if suppress:
            kwargs["default"] = argparse.SUPPRESS
        parser.add_argument(*args, **kwargs)

    add("--server-url", default=None, help="Default server URL (PUBLIC_BASE_URL/webhooks/vapi/).")
    add("--secret", default=None, help="x-vapi-secret when a server has no credential.")
    add("--time-factor", type=float, default=None, help="Scenario seconds per real second.")
    add("--seed", type=int, default=None, help="Seed for outcomes, callers and faults.")
    add("--scenario", default=None, help="Every outbound call is answered and plays this one.")
    add("--outcome", default=None, help="Force answered/busy/no-answer/voicemail/failed.")
    add("--mix", default="mix-default", help="Outcome mix name or YAML path.")
    add("--scenario-dir", default=None, help="Directory of scenario files.")
    add("--duplicate-rate", type=float, default=0.0, help="Probability a message is sent twice.")
    add("--shuffle", action="store_true", help="Deliver informational messages out of order.")
    add("--drop-report-rate", type=float, default=0.0, help="Probability the report is lost.")
    add("--slow-rate", type=float, default=0.0, help="Probability a delivery is delayed.")
    add("--slow-seconds", type=float, default=2.0, help="Delay of a slow delivery.")
    add("--fail-rate", type=float, default=0.0, help="Probability a delivery is lost.")
    add("--hang-after", type=float, default=1.5, help="Seconds without a tool answer before hang.")
    add("--hmac-timestamp-unit", choices=("s", "ms"), default="s")
    add(
        "--transfer-outcome",
        choices=("answered", "operator-busy", "no-answer"),
        default="answered",
        help="What the person a call is transferred to does.",
    )


def config_from(options: dict[str, Any], *, time_factor: float) -> SimulatorConfig:
    return SimulatorConfig(
        server_url=options["server_url"] or default_server_url(),
        secret=options["secret"] if options["secret"] is not None else default_secret(),
        time_factor=options["time_factor"] or time_factor,
        seed=options["seed"],
        scenario=options["scenario"],
        outcome=options["outcome"],
        mix=options["mix"],
        scenario_dir=options["scenario_dir"],
        hang_after=options["hang_after"],
        hmac_timestamp_unit=options["hmac_timestamp_unit"],
        transfer_outcome=options.get("transfer_outcome") or "answered",
        faults=Faults(
            duplicate_rate=options["duplicate_rate"],
            shuffle=options["shuffle"],
            drop_report_rate=options["drop_report_rate"],
            slow_rate=options["slow_rate"],
            slow_seconds=options["slow_seconds"],
            fail_rate=options["fail_rate"],
        ),
    )


class Command(BaseCommand):
    help = "Run the local Vapi simulator (REST API + server messages), place an inbound call, or drive load."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8200, help="0 picks a free port.")
        parser.add_argument(
            "--api-key", default=None, help="Require this bearer key (default: VAPI_API_KEY, as Vapi would)."
        )
        parser.add_argument(
            "--allow-any-key", action="store_true", help="Accept any non-empty bearer key (Vapi never does)."
        )
        parser.add_argument(
            "--phone-number", action="append", default=None, help="A number the org owns (repeatable)."
        )
        parser.add_argument(
            "--concurrency-limit",
            type=int,
            default=10,
            help="The org's concurrent calls (Vapi's default 10); calls over it are refused.",
        )
        parser.add_argument(
            "--call-rate-limit",
            type=float,
            default=None,
            help="POST /call per second before a 429 with Retry-After (default: no rate limit).",
        )
        add_play_options(parser)
        sub = parser.add_subparsers(dest="action")
        inbound = sub.add_parser("simulate-inbound", help="A caller dials one of the simulator's numbers.")
        inbound.add_argument("--from", dest="from_number", required=True, help="Caller number, E.164.")
        inbound.add_argument("--to", dest="to_number", required=True, help="One of the simulator's numbers.")
        inbound.add_argument("--caller", dest="inbound_scenario", default=None, help="Caller scenario.")
        inbound.add_argument(
            "--simulator-url", default=None, help="The running simulator (default: VAPI_BASE_URL)."
        )
        inbound.add_argument("--no-wait", action="store_true", help="Return once the call is created.")
        load = sub.add_parser("load", help="N concurrent calls for M seconds against a server URL.")
        load.add_argument("--calls", type=int, default=10, help="Calls in flight at once.")
        load.add_argument("--seconds", type=float, default=30.0, help="How long to keep placing calls.")
        load.add_argument("--auth", choices=("secret", "bearer", "hmac"), default="secret")
        add_play_options(load, suppress=True)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options.get("action")
        try:
            if action == "simulate-inbound":
                self.simulate_inbound(options)
            elif action == "load":
                self.load(options)
            else:
                self.serve(options)
        except ScenarioError as exc:
            raise CommandError(str(exc))

    # --- serve ---------------------------------------------------------------------------------
    def serve(self, options: dict[str, Any]) -> None:
        config = config_from(options, time_factor=1.0)
        config.host, config.port, config.api_key = options["host"], options["port"], options["api_key"]
        config.allow_any_key = options["allow_any_key"]
        config.concurrency_limit = options["concurrency_limit"]
        config.call_rate_limit = options["call_rate_limit"]
        if options["phone_number"]:
            config.phone_numbers = options["phone_number"]
        try:
            sim = Simulator(config)
        except ValueError as exc:
            raise CommandError(str(exc))
        try:
            sim.bind()
        except OSError as exc:
            raise CommandError(f"cannot listen on {config.host}:{config.port}: {exc}")
        self.stdout.write(f"Vapi simulator listening on {sim.base_url} (VAPI_BASE_URL={sim.base_url})")
        self.stdout.write(f"  default server URL: {config.server_url}  time factor: {config.time_factor}")
        self.stdout.write(
            "  API key: any key accepted (--allow-any-key)"
            if config.allow_any_key
            else "  API key: required (VAPI_API_KEY or --api-key); a wrong key gets 401 like Vapi"
        )
        for phone in sim.store.list("phone_numbers"):
            self.stdout.write(f"  phone number {phone['number']}  id {phone['id']}")
        self.stdout.flush()
        try:
            sim.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            sim.stop(wait=1.0)

    # --- simulate-inbound ----------------------------------------------------------------------
    def api(self, base: str, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - http(s) simulator URL given on the command line
            f"{base.rstrip('/')}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {key or settings.VAPI_API_KEY or 'simulator'}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise CommandError(f"simulator answered {exc.code}: {detail}")
        except (urllib.error.URLError, OSError) as exc:
            raise CommandError(
                f"no simulator at {base} ({exc}). "
                "Start one first: python manage.py vapi_simulator --port 8200"
            )

    def simulate_inbound(self, options: dict[str, Any]) -> None:
        base = options["simulator_url"] or settings.VAPI_BASE_URL
        body = {"from": options["from_number"], "to": options["to_number"]}
        if options["inbound_scenario"]:
            body["scenario"] = options["inbound_scenario"]
        call = self.api(base, "POST", "/simulator/inbound", body, options["api_key"])
        self.stdout.write(f"inbound call {call['id']} ringing on {options['to_number']}")
        if options["no_wait"]:
            return
        seen, ended_at = call.get("status"), None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            time.sleep(0.5)
            current = self.api(base, "GET", f"/call/{call['id']}", key=options["api_key"])
            if current.get("status") != seen:
                seen = current.get("status")
                reason = f" ({current.get('endedReason')})" if seen == "ended" else ""
                self.stdout.write(f"  status {seen}{reason}")
            if seen != "ended":
                continue
            ended_at = ended_at or time.monotonic()
            # The report (artifact) follows the ended status after the analysis delay.
            if current.get("artifact") is not None or time.monotonic() - ended_at > 15:
                if current.get("assistantId"):
                    self.stdout.write(f"  assistant chosen by voiceops: {current['assistantId']}")
                transcript = (current.get("artifact") or {}).get("transcript") or ""
                if transcript:
                    self.stdout.write(transcript.rstrip())
                return
        raise CommandError("the call did not end within 10 minutes")

    # --- load ----------------------------------------------------------------------------------
    def load(self, options: dict[str, Any]) -> None:
        config = config_from(options, time_factor=60.0)
        if options["mix"] == "mix-default" and not options["outcome"]:
            config.mix = "mix-answered"
        secret = config.secret or "load-secret"
        credential = None
        if options["auth"] == "bearer":
            credential = {"provider": "webhook", "authenticationPlan": {"type": "bearer", "token": secret}}
        elif options["auth"] == "hmac":
            credential = {"provider": "webhook", "authenticationPlan": {"type": "hmac", "secretKey": secret}}
        self.stdout.write(
            f"load: {options['calls']} concurrent calls for {options['seconds']} s -> {config.server_url} "
            f"(auth {options['auth']}, time factor {config.time_factor})"
        )
        report = run_load(
            server_url=config.server_url or "",
            calls=options["calls"],
            seconds=options["seconds"],
            config=config,
            credential=credential,
        )
        for line in report.lines():
            self.stdout.write(line)
