"""Prepare and drive the demo (``make demo``).

``demo_setup`` (before the processes start): the admin user and the demo rows.
``demo_setup --start`` (a process of the demo Procfile): waits for the web server and the
simulator, pushes the assistant to the simulator, starts the campaign, prints the admin URL
and login, then prints progress every few seconds until stopped.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, close_old_connections

from voiceops.simulator import demo

DEMO_USER = "admin"
DEMO_PASSWORD = "voiceops-demo"


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local demo URLs
            return response.status < 500
    except (urllib.error.URLError, OSError):
        return False


class Command(BaseCommand):
    help = "Create the demo admin user and demo data (idempotent); --start sets the demo in motion."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--start", action="store_true", help="Push the assistant and start the campaign.")
        parser.add_argument("--wait", type=float, default=90.0, help="Seconds to wait for web and simulator.")
        parser.add_argument(
            "--follow",
            type=float,
            default=None,
            help="Seconds to print progress for (default: until stopped).",
        )
        parser.add_argument("--every", type=float, default=10.0, help="Seconds between progress lines.")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_USER, defaults={"is_staff": True, "is_superuser": True}
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        data = demo.demo_seed()
        if not options["start"]:
            self.stdout.write(
                f"Demo data ready: assistant '{data.assistant.name}', number {data.phone_number.number}, "
                f"resource '{data.resource.name}', campaign '{data.campaign.name}' "
                f"with {data.customers} customers."
            )
            return
        self.wait_for_services(options["wait"])
        self.start(data)
        self.banner()
        self.follow(data, seconds=options["follow"], every=options["every"])

    def wait_for_services(self, seconds: float) -> None:
        web = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/healthz"
        simulator = f"{settings.VAPI_BASE_URL.rstrip('/')}/simulator/health"
        deadline = time.monotonic() + seconds
        while not (reachable(web) and reachable(simulator)):
            if time.monotonic() > deadline:
                raise CommandError(
                    f"web ({web}) or simulator ({simulator}) did not come up in {seconds:.0f} s"
                )
            time.sleep(0.5)

    def start(self, data: demo.DemoData) -> None:
        from assistants.models import PushState
        from voiceops.errors import DomainError
        from voiceops.vapi.client import VapiError

        demo.demo_push_assistant(assistant=data.assistant)
        deadline = time.monotonic() + 60
        data.assistant.refresh_from_db()
        while data.assistant.push_state == PushState.PENDING and time.monotonic() < deadline:
            time.sleep(0.5)
            data.assistant.refresh_from_db()
        if data.assistant.push_state != PushState.IN_SYNC:
            raise CommandError(
                f"the assistant was not pushed to the simulator ({data.assistant.push_state}): "
                f"{data.assistant.push_error}"
            )
        self.stdout.write(f"Assistant pushed to the simulator as {data.assistant.vapi_id}.")
        try:
            phone = demo.demo_route_number(phone_number=data.phone_number)
        except (DomainError, VapiError) as exc:
            raise CommandError(f"the demo number was not made routed in the simulator: {exc}")
        rules = ", ".join(phone.routing_rules.values_list("name", flat=True)) or "none"
        self.stdout.write(
            f"Number {phone.number} is routed (Vapi: {phone.get_vapi_mode_display()}); rules: {rules}; "
            f"default: {phone.assistant}."
        )
        try:
            demo.demo_start_campaign(campaign=data.campaign)
        except DomainError as exc:
            self.stdout.write(f"Campaign '{data.campaign.name}' not started: {exc}")
            return
        self.stdout.write(f"Campaign '{data.campaign.name}' started: {data.customers} customers to call.")

    def banner(self) -> None:
        self.stdout.write(self.style.SUCCESS("voiceops demo is running."))
        self.stdout.write(f"  Admin:     {demo.demo_admin_url()}")
        self.stdout.write(f"  Login:     {DEMO_USER} / {DEMO_PASSWORD}")
        self.stdout.write(f"  API docs:  {settings.PUBLIC_BASE_URL.rstrip('/')}/api/docs/")
        self.stdout.write(
            f"  Simulator: {settings.VAPI_BASE_URL} (Vapi stand-in; calls play in fast-forward)"
        )
        # scripts/inbound-call reads the same demo defaults (SECRET_KEY, keys, URLs) as scripts/demo,
        # so these lines work when pasted into a second terminal.
        for who, number in (
            ("known customer", demo.DEMO_KNOWN_CALLER),
            ("unknown caller", "+14155550199"),
            ("blocked caller", demo.DEMO_BLOCKED_CALLER),
        ):
            self.stdout.write(
                f"  Inbound ({who}): scripts/inbound-call --from {number} --to {demo.DEMO_NUMBER} "
                f"--simulator-url {settings.VAPI_BASE_URL}"
            )
        self.stdout.flush()

    def follow(self, data: demo.DemoData, *, seconds: float | None, every: float) -> None:
        """Print a progress line whenever something changed; keeps the demo process alive."""
        stop_at = time.monotonic() + seconds if seconds is not None else None
        last: dict[str, Any] | None = None
        while stop_at is None or time.monotonic() < stop_at:
            try:
                progress = demo.demo_progress(campaign=data.campaign)
            except OperationalError as exc:  # a busy database must not stop the whole demo
                self.stderr.write(f"progress unavailable: {exc}")
                close_old_connections()
                time.sleep(every)
                continue
            if progress != last:
                calls = (
                    ", ".join(f"{n} {status}" for status, n in sorted(progress["calls"].items()))
                    or "none yet"
                )
                recipients = ", ".join(f"{n} {s}" for s, n in sorted(progress["recipients"].items()))
                self.stdout.write(
                    f"progress: calls {calls} | transcript lines {progress['transcript_turns']} | "
                    f"tool calls {progress['tool_invocations']} | appointments {progress['appointments']} | "
                    f"opted out {progress['do_not_call']} | recipients {recipients}"
                )
                self.stdout.flush()
                last = progress
            time.sleep(every)
