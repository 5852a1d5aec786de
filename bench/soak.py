"""Chaos soak: the shipped system under steady call traffic while its parts are killed (issue 20).

What runs: the Procfile's processes (web as production runs it, Celery worker, beat, and a
ledger worker if the Procfile lists one) on a private database ``<your database>_soak``,
a private ``redis-server`` and a TCP proxy in front of Postgres, all owned by this script;
the Vapi simulator runs in this process, so its own record (calls placed, messages sent and
acknowledged) is what the results are checked against.

Traffic, for ``--duration`` seconds: inbound calls on a number whose calls are routed by
``assistant-request``; two campaigns whose caps add up to the org limit; callers who book,
and who book then cancel; each message duplicated or reordered at a rate, and a share of
end-of-call reports lost. Faults, on the schedule printed at the start: SIGKILL of the
worker, of one web worker, of beat; Redis killed and restarted; Postgres cut at the proxy
and restored; Vapi answering 429, then 503, for a while.

Then it restores everything, waits for the system to settle, and prints a table checked
against the simulator. Exit status 1 when a must-be-0 row is not 0.

    .venv/bin/python bench/soak.py --duration 1800            # the long run (docs/operations.md)
    .venv/bin/python bench/soak.py                            # 10 minutes (``make bench``)
    .venv/bin/python bench/soak.py --duration 60 --short      # the test suite's short mode

Switches for parts that land later: ``--env NAME=VALUE`` passes a setting to every process
(e.g. an org concurrency limit), ``--org-limit`` sets the simulator's limit and the caps.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.chaos.database import dotenv, drop_database, private_database  # noqa: E402
from bench.chaos.system import System, expand  # noqa: E402

SECRET = "soak-webhook-secret-41c7"
API_KEY = "soak-vapi-key-9d2b"
INBOUND_NUMBER = "+12125550100"
CAMPAIGN_NUMBERS = ("+12125550101", "+12125550102")
RESOURCE = "Dr. Rivera"
TOOLS = ("get_customer_info", "check_availability", "book_appointment", "cancel_appointment", "opt_out")
INBOUND_CALLERS = (("books-appointment", 3), ("books-and-cancels", 3), ("account-status", 2), ("hangs-up", 1))
OUTAGE_GRACE = 5.0  # seconds after a fault during which a 5xx is the fault's, not a bug


@dataclass
class Fault:
    at: float
    name: str
    hold: float
    outage: bool = False  # a 5xx from the webhook is expected while it lasts


def fault_plan(duration: float, hold: float, *, others: tuple[str, ...] = ()) -> list[Fault]:
    """Every kind of fault, spread over the run; repeated in cycles when the run is long.

    ``others``: Procfile processes besides web, worker and beat (e.g. a ledger worker), each
    SIGKILLed once per cycle too.
    """
    kinds = [
        ("kill worker", 2.0, False),
        ("kill web worker", 0.0, False),
        ("redis down", hold, False),
        ("kill beat", 2.0, False),
        ("postgres cut", hold, True),
        ("vapi 429", hold, False),
        ("vapi 503", hold, False),
        ("kill worker child", 0.0, False),
        *((f"kill {name}", 2.0, False) for name in others),
    ]
    cycle = min(duration * 0.85, 600.0)
    plan: list[Fault] = []
    start = duration * 0.1
    while start + cycle * 0.5 < duration:
        step = cycle / len(kinds)
        for index, (name, held, outage) in enumerate(kinds):
            at = start + index * step
            if at + held < duration:
                plan.append(Fault(round(at, 1), name, held, outage))
        start += cycle
    return plan


@dataclass
class Record:
    """What the harness saw, from the simulator's side."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: dict[str, tuple[str, float]] = field(default_factory=dict)  # dedupe key -> (type, sent at)
    server_errors: list[tuple[float, str, int]] = field(default_factory=list)
    failed_deliveries: int = 0
    delivery_errors: collections.Counter[str] = field(default_factory=collections.Counter)
    confirmations: set[str] = field(default_factory=set)
    outages: list[tuple[float, float]] = field(default_factory=list)
    max_active: int = 0
    over_org_limit: int = 0
    max_by_campaign: collections.Counter[str] = field(default_factory=collections.Counter)
    over_cap: int = 0
    samples: int = 0
    inbound_placed: int = 0


def on_delivery(record: Record, delivery: Any) -> None:
    """The simulator's listener: every POST it made to the webhook and what it got back."""
    from django.conf import settings

    from voiceops.simulator.tools import CONFIRMATION_CODE
    from voiceops.vapi.messages import EnvelopeError, parse_server_message

    status = delivery.status
    with record.lock:
        if status is not None and status >= 500:
            record.server_errors.append((delivery.sent_at, delivery.type, status))
        if status is None or not 200 <= status < 300:
            record.failed_deliveries += 1
            record.delivery_errors[f"{delivery.type}: {status or delivery.error}"[:80]] += 1
            return
    try:
        parsed = parse_server_message(delivery.body, max_depth=settings.VAPI_WEBHOOK_MAX_DEPTH)
    except EnvelopeError:
        return
    key = parsed.dedupe_key(delivery.body)
    codes = []
    if parsed.type == "tool-calls" and isinstance(delivery.response, dict):
        for result in delivery.response.get("results") or []:
            # The code the caller heard, read the way the simulated caller reads it.
            if found := CONFIRMATION_CODE.search(str(result.get("result") or "")):
                codes.append(found.group(1).replace(" ", ""))
    with record.lock:
        record.acknowledged.setdefault(key, (parsed.type, delivery.sent_at))
        record.confirmations.update(codes)


# --- set-up -------------------------------------------------------------------------------------
def system_env(args: argparse.Namespace, *, sim_url: str) -> dict[str, str]:
    env = {
        **dotenv(),
        "DJANGO_SETTINGS_MODULE": "bench.chaos.settings",
        "SECRET_KEY": "soak-only-secret-key",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "VAPI_BASE_URL": sim_url,
        "VAPI_API_KEY": API_KEY,
        "VAPI_WEBHOOK_SECRET": SECRET,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "WARNING",
        "CELERY_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    }
    if args.short:  # the safety nets must run several times within minutes
        env.update(
            {
                "VAPI_WEBHOOK_SWEEP_AFTER_SECONDS": "8",
                "SOAK_SWEEP_SECONDS": "4",
                "SOAK_RECONCILE_SECONDS": "5",
                "SOAK_RECONCILE_GRACE_MINUTES": "0.25",
                "OUTBOUND_RESERVED_STALE_SECONDS": "10",
                "OUTBOUND_REQUESTING_STALE_SECONDS": "15",
                # A dial that met Vapi's injected 5xx is unknown until lookups prove it lost: at
                # 1, 2, 4 s apart and lost after 10 s, so it is final well within the settle time.
                "OUTBOUND_RECONCILE_BASE_SECONDS": "1",
                "OUTBOUND_RECONCILE_MAX_SECONDS": "4",
                "OUTBOUND_LOST_AFTER_SECONDS": "10",
                "CAMPAIGN_TICK_SECONDS": "1",
            }
        )
    else:
        env.update(
            {
                "VAPI_WEBHOOK_SWEEP_AFTER_SECONDS": "30",
                "SOAK_SWEEP_SECONDS": "15",
                "SOAK_RECONCILE_SECONDS": "30",
                "SOAK_RECONCILE_GRACE_MINUTES": "1",
                # Unknown dials are proved lost within ~2 minutes (production: 10), inside the settle time.
                "OUTBOUND_RECONCILE_MAX_SECONDS": "30",
                "OUTBOUND_LOST_AFTER_SECONDS": "120",
            }
        )
    for item in args.env:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def seed(args: argparse.Namespace, *, recipients_each: int) -> dict[str, Any]:
    """Assistants (pushed to the simulator), numbers, a resource, two running campaigns."""
    import datetime as dt

    from django.core.management import call_command

    from assistants.models import Assistant, PhoneNumber
    from assistants.payload import server_block
    from assistants.services import assistant_push
    from calls.campaigns.services.control import campaign_start
    from calls.models import Campaign, CampaignRecipient, Customer
    from tools.models import Resource, Tool
    from voiceops.simulator.store import phone_number_id_for
    from voiceops.vapi.client import get_client

    call_command("tools_sync", verbosity=0)
    all_day = [["00:00", "23:59"]]
    Resource.objects.create(
        name=RESOURCE,
        kind=Resource.Kind.PERSON,
        time_zone="UTC",
        slot_minutes=30,
        working_hours={d: all_day for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    )
    tools = [Tool.objects.get_or_create(name=name, defaults={"description": name})[0] for name in TOOLS]
    messages = [
        "status-update",
        "end-of-call-report",
        "tool-calls",
        "conversation-update",
        'transcript[transcriptType="final"]',
        "hang",
    ]

    def assistant(name: str) -> Any:
        created = Assistant.objects.create(
            name=name,
            first_message="Hi, this is Riley from Northwind Clinic.",
            system_prompt="Book, cancel or look up appointments with the tools.",
            end_call_message="Goodbye!",
            server_messages=messages,
        )
        created.tools.add(*tools)
        assistant_push(assistant=created)
        created.refresh_from_db()
        return created

    inbound = assistant("Soak inbound")
    # Routed: the number is bound to no assistant at Vapi; each call asks us (assistant-request),
    # through the server block (with its retry plan) that voiceops gives every server URL.
    PhoneNumber.objects.create(
        number=INBOUND_NUMBER, vapi_id=phone_number_id_for(INBOUND_NUMBER), provider="vapi", assistant=inbound
    )
    get_client().phone_number_update(
        phone_number_id_for(INBOUND_NUMBER), {"assistantId": None, "server": server_block(credential_id=None)}
    )
    caps = (args.org_limit // 2, args.org_limit - args.org_limit // 2)
    campaigns = []
    for index, (number, cap) in enumerate(zip(CAMPAIGN_NUMBERS, caps, strict=True)):
        owner = assistant(f"Soak campaign {index + 1}")
        phone = PhoneNumber.objects.create(
            number=number, vapi_id=phone_number_id_for(number), provider="vapi"
        )
        campaign = Campaign.objects.create(
            name=f"Soak {index + 1}",
            assistant=owner,
            phone_number=phone,
            max_concurrent_calls=cap,
            max_calls_per_minute=10_000,
            max_attempts=2,
            window_start=dt.time(0, 0),
            window_end=dt.time(23, 59, 59),
            retry_policy={g: {"retry": True, "delay_minutes": 0} for g in ("busy", "no-answer", "voicemail")}
            | {"failed": {"retry": False, "delay_minutes": 0}},
        )
        customers = Customer.objects.bulk_create(
            [
                Customer(number=f"+1202{index + 5}55{i:04d}", name=f"Recipient {index}-{i}", time_zone="UTC")
                for i in range(recipients_each)
            ]
        )
        CampaignRecipient.objects.bulk_create(
            [
                CampaignRecipient(
                    campaign=campaign,
                    customer=c,
                    number=c.number,
                    name=c.name,
                    time_zone="UTC",
                    variables={"customerName": c.name, "resource": RESOURCE},
                )
                for c in customers
            ]
        )
        campaign_start(campaign=campaign, by="soak")
        campaigns.append(campaign)
    return {
        "campaigns": campaigns,
        "caps": {c.assistant.vapi_id: c.max_concurrent_calls for c in campaigns},
    }


# --- running ------------------------------------------------------------------------------------
def inbound_traffic(sim: Any, record: Record, *, stop: threading.Event, interval: float, seed_: int) -> None:
    rng = random.Random(seed_)
    names = [name for name, _ in INBOUND_CALLERS]
    weights = [weight for _, weight in INBOUND_CALLERS]
    while not stop.wait(interval * rng.uniform(0.5, 1.5)):
        caller = f"+1415555{rng.randrange(10_000):04d}"
        try:
            sim.simulate_inbound(
                from_number=caller,
                to_number=INBOUND_NUMBER,
                scenario=rng.choices(names, weights)[0],
                name=f"Caller {caller[-4:]}",
            )
            record.inbound_placed += 1
        except Exception as exc:  # noqa: BLE001 - keep the traffic going; the table tells
            print(f"  inbound call not placed: {exc}", flush=True)


def sampler(sim: Any, record: Record, *, stop: threading.Event, org_limit: int, caps: dict[str, int]) -> None:
    """Every 100 ms: calls live at Vapi, in total and per campaign assistant."""
    while not stop.wait(0.1):
        with sim.store.lock:
            live = [
                c
                for c in sim.store.calls.values()
                if c.get("status") in ("queued", "ringing", "in-progress", "forwarding")
            ]
            by_assistant = collections.Counter(
                str(c.get("assistantId")) for c in live if c.get("type") == "outboundPhoneCall"
            )
        outbound = sum(by_assistant.values())
        with record.lock:
            record.samples += 1
            record.max_active = max(record.max_active, outbound)
            record.over_org_limit += outbound > org_limit
            for assistant_id, cap in caps.items():
                record.max_by_campaign[assistant_id] = max(
                    record.max_by_campaign[assistant_id], by_assistant[assistant_id]
                )
                record.over_cap += by_assistant[assistant_id] > cap


def inject(fault: Fault, system: System, sim: Any, record: Record) -> None:
    """Apply one fault; held faults are undone by ``undo`` after ``fault.hold`` seconds."""
    now = time.time()
    if fault.outage:
        with record.lock:
            record.outages.append((now, now + fault.hold + OUTAGE_GRACE))
    procs = system.processes
    if fault.name == "kill worker":
        procs["worker"].held = True
        procs["worker"].kill()
    elif fault.name == "kill worker child":
        children = procs["worker"].children()
        if children:
            os.kill(random.choice(children), 9)
    elif fault.name == "kill web worker":
        children = procs["web"].children()
        if children:
            os.kill(random.choice(children), 9)
    elif fault.name == "kill beat":
        procs["beat"].held = True
        procs["beat"].kill()
    elif fault.name == "redis down":
        system.redis.crash()
    elif fault.name == "postgres cut":
        system.pg_proxy.stop()
    elif fault.name == "vapi 429":
        sim.api_outage = 429
    elif fault.name == "vapi 503":
        sim.api_outage = 503
    elif fault.name.startswith("kill ") and fault.name[5:] in procs:
        procs[fault.name[5:]].held = True
        procs[fault.name[5:]].kill()


def undo(fault: Fault, system: System, sim: Any) -> None:
    if fault.name == "kill worker":
        system.processes["worker"].held = False
    elif fault.name == "kill beat":
        system.processes["beat"].held = False
    elif fault.name == "redis down":
        system.redis.start()
    elif fault.name == "postgres cut":
        system.pg_proxy.start()
    elif fault.name in ("vapi 429", "vapi 503"):
        sim.api_outage = None
    elif fault.name.startswith("kill ") and fault.name[5:] in system.processes:
        system.processes[fault.name[5:]].held = False


def run_faults(
    plan: list[Fault], system: System, sim: Any, record: Record, *, t0: float, stop: threading.Event
) -> None:
    timers: list[tuple[float, Fault]] = []
    pending = list(plan)
    while not stop.is_set() and (pending or timers):
        elapsed = time.monotonic() - t0
        while pending and pending[0].at <= elapsed:
            fault = pending.pop(0)
            print(
                f"  t={elapsed:6.1f}s  fault: {fault.name}"
                + (f" for {fault.hold:.0f}s" if fault.hold else ""),
                flush=True,
            )
            inject(fault, system, sim, record)
            timers.append((elapsed + fault.hold, fault))
        for due in [t for t in timers if t[0] <= elapsed]:
            timers.remove(due)
            undo(due[1], system, sim)
        stop.wait(0.1)
    for _, fault in timers:  # the run ended inside a fault: restore before settling
        undo(fault, system, sim)


# --- main ---------------------------------------------------------------------------------------
def main() -> int:  # noqa: C901, PLR0915 - one linear script reads best in one piece
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of traffic and faults")
    parser.add_argument("--short", action="store_true", help="fast safety nets (the test suite's mode)")
    parser.add_argument("--settle", type=float, default=None, help="max seconds to settle (default by mode)")
    parser.add_argument(
        "--org-limit", type=int, default=6, help="Vapi org concurrency; the caps add up to it"
    )
    parser.add_argument("--inbound-every", type=float, default=2.0, help="seconds between inbound calls")
    parser.add_argument("--time-factor", type=float, default=15.0, help="simulated call seconds per second")
    parser.add_argument("--fault-hold", type=float, default=None, help="seconds each outage lasts")
    parser.add_argument("--duplicate-rate", type=float, default=0.05)
    parser.add_argument("--drop-report-rate", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="a setting for every process"
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs directory")
    args = parser.parse_args()
    hold = args.fault_hold if args.fault_hold is not None else (4.0 if args.short else 15.0)
    settle_limit = args.settle if args.settle is not None else (75.0 if args.short else 300.0)

    from voiceops.simulator.config import SimulatorConfig
    from voiceops.simulator.delivery import Faults
    from voiceops.simulator.runner import Simulator

    workdir = Path(tempfile.mkdtemp(prefix="voiceops-soak-"))
    database_url = private_database("soak")
    pg_port = urlsplit(database_url).port or 5432
    # Ports first: the simulator needs the web's URL, the processes need the simulator's.
    system = System(workdir=workdir, database_url=database_url, pg_port=pg_port, env={})
    sim = Simulator(
        SimulatorConfig(
            server_url=f"{system.web_url}/webhooks/vapi/",
            secret=SECRET,
            api_key=API_KEY,
            time_factor=args.time_factor,
            seed=args.seed,
            phone_numbers=[INBOUND_NUMBER, *CAMPAIGN_NUMBERS],
            concurrency_limit=args.org_limit,
            faults=Faults(
                duplicate_rate=args.duplicate_rate, shuffle=True, drop_report_rate=args.drop_report_rate
            ),
            keep_bodies=True,
        )
    ).start()
    system.base_env = system_env(args, sim_url=sim.base_url)
    os.environ.update({**system.child_env(), "DATABASE_URL": database_url})  # direct, not proxied
    import django

    django.setup()
    from django.core.management import call_command

    record = Record()
    sim.deliverer.listeners.append(lambda delivery: on_delivery(record, delivery))
    print(f"soak: {args.duration:.0f} s of traffic, logs in {workdir}", flush=True)
    call_command("migrate", verbosity=0)
    avg_call = 60.0 / args.time_factor + 1.0
    # About what the caps can dial in the run (calls ring, play and end: ~4 call lengths per slot turn).
    recipients_each = max(5, int(args.duration * (args.org_limit / 2) / (avg_call * 4)))
    system.start()
    others = tuple(name for name in system.processes if name not in ("web", "worker", "beat"))
    plan = fault_plan(args.duration, hold, others=others)
    for name, process in system.processes.items():
        print(f"  process {name}: {expand(process.command, process.env)}", flush=True)
    print("  fault schedule (seconds from the start of traffic):", flush=True)
    for fault in plan:
        print(
            f"    t={fault.at:6.1f}s  {fault.name}" + (f" for {fault.hold:.0f}s" if fault.hold else ""),
            flush=True,
        )
    exit_code = 1
    try:
        system.wait_web()
        setup = seed(args, recipients_each=recipients_each)
        stop = threading.Event()
        t0 = time.monotonic()
        threads = [
            threading.Thread(
                target=inbound_traffic,
                args=(sim, record),
                kwargs={"stop": stop, "interval": args.inbound_every, "seed_": args.seed},
            ),
            threading.Thread(
                target=sampler,
                args=(sim, record),
                kwargs={"stop": stop, "org_limit": args.org_limit, "caps": setup["caps"]},
            ),
            threading.Thread(
                target=run_faults, args=(plan, system, sim, record), kwargs={"t0": t0, "stop": stop}
            ),
        ]
        for thread in threads:
            thread.start()
        while time.monotonic() - t0 < args.duration:
            time.sleep(1)
        stop.set()
        threads[0].join()
        threads[2].join()
        print(
            f"  traffic stopped after {time.monotonic() - t0:.0f} s; settling (at most {settle_limit:.0f} s)",
            flush=True,
        )
        from bench.chaos.checks import checks, print_table, unsettled
        from calls.campaigns.services.control import campaign_cancel

        for campaign in setup["campaigns"]:
            campaign.refresh_from_db()
            if campaign.state not in ("completed", "cancelled"):
                # The operator stops what the run did not finish: pending recipients become final,
                # calls in progress play to the end.
                campaign_cancel(campaign=campaign, by="soak")
                print(f"  campaign {campaign.name!r} cancelled at the end of traffic", flush=True)

        sampling_stop = threading.Event()
        threads[1].join()
        again = threading.Thread(
            target=sampler,
            args=(sim, record),
            kwargs={"stop": sampling_stop, "org_limit": args.org_limit, "caps": setup["caps"]},
        )
        again.start()
        deadline = time.monotonic() + settle_limit
        last_said = 0.0
        while (pending := unsettled(sim=sim, campaigns=setup["campaigns"])) and time.monotonic() < deadline:
            if time.monotonic() - last_said >= 10:
                print(f"  t={time.monotonic() - t0:6.1f}s  settling: {pending}", flush=True)
                last_said = time.monotonic()
            time.sleep(1)
        sampling_stop.set()
        again.join()
        rows = checks(
            sim=sim, record=record, campaigns=setup["campaigns"], org_limit=args.org_limit, caps=setup["caps"]
        )
        restarts = {name: p.restarts for name, p in system.processes.items()}
        state = f"NOT settled ({pending})" if pending else "settled"
        print(
            f"  {state} after {time.monotonic() - t0 - args.duration:.0f} s; supervisor restarts: {restarts}"
        )
        exit_code = print_table(rows)
    finally:
        sim.stop(wait=2)
        system.stop()
        from django.db import connections

        connections.close_all()
        if not args.keep and exit_code == 0:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
            drop_database(database_url)
        else:
            print(f"  kept: logs in {workdir}, database {database_url}", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
