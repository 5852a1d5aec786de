"""Campaign dispatcher benchmark: cap 50 inside an org limit of 60, 2,000 recipients, short calls.

Prints slot use measured where it is paid for -- live calls at the Vapi simulator over the cap,
sampled every 50 ms while dialing (and, beside it, our own rows) --, moments over the cap (must
be 0) and calls Vapi refused for concurrency, refill delay p50/p95 from the moment Vapi ends a
call to the next POST /call, and the dispatch rate.

What runs where:
- a throwaway Postgres database (created and dropped here) with the real models and services;
- Vapi: a minimal fake HTTP server in this process (``FakeVapi``, ThreadingHTTPServer on a free
  127.0.0.1 port) that accepts POST /call and ends each call after a short random duration
  with an outcome drawn from a mix; voiceops's own ``VapiClient`` talks to it over HTTP;
- ending a call does what the webhook processor does (status ``ended``, outcome, cost) and
  calls ``calls.hooks.on_call_ended``, whose refill enqueue is routed to an in-process queue
  drained by WORKERS threads (stand-ins for Celery workers); a beat thread enqueues a
  dispatch every TICK seconds, like django-celery-beat.

Two Vapi stand-ins (``--vapi``): ``simulator`` (default; voiceops's Vapi simulator plays every
call back through the real webhook endpoint, see ``_run_simulator``) and ``fake`` (the bare
in-process POST /call server described above, which isolates the dispatcher from webhook cost).

With ``--vapi simulator``, ``--stack processes`` (default) runs the webhook side as it ships:
scripts/web (granian, one process of --web-threads), --ledger-workers ledger workers and a Celery
worker of --workers children on a queue of its own, with notify dispatch and group commit; the
bench process holds the simulator, the sampler and a 3 s beat. ``--stack inprocess`` runs a
pooled WSGI server and dispatch threads inside this process instead (one GIL for everything).

Usage: .venv/bin/python bench/campaign_bench.py [--vapi simulator|fake] [--stack processes|inprocess]
       [--recipients 2000] [--cap 50] [--org-limit 60] [--ledger-workers 1]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUTCOMES = [  # (endedReason, weight, cost)
    ("customer-ended-call", 60, "0.12"),
    ("customer-busy", 10, "0.00"),
    ("customer-did-not-answer", 15, "0.00"),
    ("voicemail", 10, "0.03"),
    ("twilio-failed-to-connect-call", 5, "0.00"),
]


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


class Recorder:
    """Everything measured, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.live_at_vapi = 0
        self.max_live_at_vapi = 0
        self.over_cap_at_vapi = 0
        self.posts: list[float] = []
        self.pending_ends: list[float] = []  # Vapi ends whose freed slot is not refilled yet (FIFO)
        self.pending_hooks: list[float] = []  # the same, timed from when on_call_ended was called
        self.refill_delays: list[float] = []
        self.ended_wall: dict[str, float] = {}  # call id -> wall time Vapi ended it (stages)
        self.hook_refill_delays: list[float] = []
        self.samples: list[int] = []


def main() -> None:  # noqa: C901 - a linear script reads best in one piece
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--cap", type=int, default=50)
    parser.add_argument(
        "--org-limit", type=int, default=60, help="simulator: the org's concurrency (VAPI_CONCURRENCY_LIMIT)"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--web-threads", type=int, default=4, help="simulator: webhook server threads (WEB_THREADS)"
    )
    parser.add_argument("--tick", type=float, default=3.0)
    parser.add_argument("--min-call", type=float, default=0.3)
    parser.add_argument("--max-call", type=float, default=0.9)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--vapi",
        choices=["simulator", "fake"],
        default="simulator",
        help="simulator: voiceops's Vapi simulator + a live webhook server; fake: bare in-process POST /call",
    )
    parser.add_argument(
        "--time-factor", type=float, default=4.0, help="simulator: scenario seconds per second"
    )
    parser.add_argument(
        "--ledger-workers", type=int, default=1, help="--stack processes: ledger worker processes"
    )
    parser.add_argument(
        "--stack",
        choices=["inprocess", "processes"],
        default="processes",
        help="simulator: webhook server and dispatch workers as threads of this process, or the "
        "shipped processes (scripts/web, the ledger worker, a Celery worker; notify + group commit)",
    )
    args = parser.parse_args()

    import psycopg

    admin_url = os.environ.get("BENCH_ADMIN_DB", "postgresql://postgres@127.0.0.1:5432/postgres")
    db_name = f"voiceops_bench_campaign_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    try:
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db_name}"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
        os.environ["LOG_LEVEL"] = "WARNING"
        os.environ["VAPI_RETRIES"] = "0"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        (_run_simulator if args.vapi == "simulator" else _run)(args)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def _run(args: argparse.Namespace) -> None:
    import datetime as dt

    from django.conf import settings
    from django.db import close_old_connections, connection

    import calls.campaigns.services.ended as ended_module
    from assistants.models import Assistant, PhoneNumber
    from calls.campaigns.selectors import campaign_progress
    from calls.campaigns.services.dispatch import campaign_dispatch_due
    from calls.enums import CallStatus, CampaignState, RecipientState
    from calls.hooks import on_call_ended
    from calls.models import Call, Campaign, CampaignRecipient, Customer, DialAttempt
    from calls.outcomes import outcome_for_ended_reason

    rng = random.Random(args.seed)
    rec = Recorder()
    work: queue.Queue[int | None] = queue.Queue()
    stop = threading.Event()
    ender_pool: queue.Queue[tuple[float, str] | None] = queue.Queue()

    # --- the fake Vapi ------------------------------------------------------------------------
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            return None

        def _send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            call_id = str(uuid.uuid4())
            now = time.monotonic()
            with rec.lock:
                rec.posts.append(now)
                rec.live_at_vapi += 1
                rec.max_live_at_vapi = max(rec.max_live_at_vapi, rec.live_at_vapi)
                if rec.live_at_vapi > args.cap:
                    rec.over_cap_at_vapi += 1
                if rec.pending_ends:
                    rec.refill_delays.append(now - rec.pending_ends.pop(0))
                if rec.pending_hooks:
                    rec.hook_refill_delays.append(now - rec.pending_hooks.pop(0))
            duration = rng.uniform(args.min_call, args.max_call)
            threading.Timer(duration, lambda: ender_pool.put((time.monotonic(), call_id))).start()
            self._send(
                201,
                {
                    "id": call_id,
                    "status": "queued",
                    "type": "outboundPhoneCall",
                    "name": payload.get("name"),
                    "customer": payload.get("customer"),
                },
            )

        def do_GET(self) -> None:  # noqa: N802
            self._send(200, [])

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.VAPI_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"

    # --- data -----------------------------------------------------------------------------------
    assistant = Assistant.objects.create(name="Bench", vapi_id=str(uuid.uuid4()), pushed_version=1)
    phone = PhoneNumber.objects.create(number="+14155550100", vapi_id=str(uuid.uuid4()), assistant=assistant)
    campaign = Campaign.objects.create(
        name="bench",
        assistant=assistant,
        phone_number=phone,
        state=CampaignState.RUNNING,
        max_concurrent_calls=args.cap,
        max_calls_per_minute=1_000_000,
        max_attempts=3,
        window_start=dt.time(0, 0),
        window_end=dt.time(23, 59, 59),
        retry_policy={
            g: {"retry": True, "delay_minutes": 0} for g in ("busy", "no-answer", "voicemail", "failed")
        },
    )
    customers = Customer.objects.bulk_create(
        [
            Customer(number=f"+1202{5550000 + i:07d}", name=f"R {i}", time_zone="UTC")
            for i in range(args.recipients)
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
                variables={"n": str(i)},
            )
            for i, c in enumerate(customers)
        ]
    )
    settings.OUTBOUND_CUSTOMER_MAX_ATTEMPTS = 10

    # --- workers: the refill path and the beat --------------------------------------------------
    ended_module.campaign_dispatch_enqueue = lambda *, campaign_id: work.put(campaign_id)

    def worker() -> None:
        while True:
            item = work.get()
            if item is None:
                break
            try:
                campaign_dispatch_due(campaign=Campaign.objects.get(pk=item))
            finally:
                close_old_connections()
        connection.close()

    def beat() -> None:
        while not stop.wait(args.tick):
            work.put(campaign.pk)
        connection.close()

    def ender() -> None:
        weights = [w for _, w, _ in OUTCOMES]
        while True:
            item = ender_pool.get()
            if item is None:
                break
            vapi_end, call_id = item
            reason, _, cost = rng.choices(OUTCOMES, weights=weights)[0]
            for _ in range(200):  # the POST answer may still be on its way into our DB
                call = Call.objects.filter(vapi_id=call_id).first()
                if call is not None:
                    break
                time.sleep(0.01)
            with rec.lock:
                rec.live_at_vapi -= 1
                rec.pending_ends.append(vapi_end)
            if call is None:
                continue
            Call.objects.filter(pk=call.pk).update(
                status=CallStatus.ENDED,
                ended_reason=reason,
                outcome=outcome_for_ended_reason(reason),
                cost=Decimal(cost),
            )
            call.refresh_from_db()
            with rec.lock:
                rec.pending_hooks.append(time.monotonic())
            on_call_ended(call=call)
        connection.close()

    def sampler() -> None:
        active = [RecipientState.DIALING, RecipientState.IN_CALL]
        while not stop.wait(0.05):
            n = CampaignRecipient.objects.filter(campaign=campaign, state__in=active).count()
            with rec.lock:
                rec.samples.append(n)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(args.workers)]
    threads += [threading.Thread(target=ender) for _ in range(4)]
    side = [threading.Thread(target=beat), threading.Thread(target=sampler)]
    for t in threads + side:
        t.start()

    started = time.monotonic()
    work.put(campaign.pk)
    open_states = [
        RecipientState.PENDING,
        RecipientState.RETRY,
        RecipientState.DIALING,
        RecipientState.IN_CALL,
    ]
    first_post_at = None
    while time.monotonic() - started < args.timeout:
        if not CampaignRecipient.objects.filter(campaign=campaign, state__in=open_states).exists():
            break
        time.sleep(0.2)
    finished = time.monotonic()
    stop.set()
    for _ in range(args.workers):
        work.put(None)
    for _ in range(4):
        ender_pool.put(None)
    for t in threads + side:
        t.join(timeout=30)
    server.shutdown()

    progress = campaign_progress(campaign=campaign)
    with rec.lock:
        posts = list(rec.posts)
        first_post_at = posts[0] if posts else started
        # Utilisation while there was work to fill slots with: up to the moment the last call was placed.
        samples = rec.samples
        refill = rec.refill_delays
        hook_refill = rec.hook_refill_delays
    busy_until = posts[-1] if posts else finished
    busy_fraction = (busy_until - started) / max(finished - started, 1e-9)
    busy_samples = samples[: max(1, int(len(samples) * busy_fraction))]
    attempts = DialAttempt.objects.filter(campaign=campaign).count()
    wall = finished - started
    print(
        f"campaign bench: {args.recipients} recipients, cap {args.cap}, "
        f"calls {args.min_call}-{args.max_call} s, "
        f"{args.workers} dispatch workers, beat {args.tick} s, fake Vapi over HTTP on 127.0.0.1"
    )
    print(
        f"  finished:            {progress['remaining'] == 0} in {wall:.1f} s "
        f"(state {progress['state']}, {attempts} attempts, {len(posts)} POST /call)"
    )
    print(f"  outcome mix:         {progress['outcome_mix']}")
    print(
        f"  slot utilisation:    {statistics.mean(busy_samples) / args.cap:.2%} "
        "mean active/cap while dialing "
        f"({len(busy_samples)} samples, max active {max(samples) if samples else 0})"
    )
    print(
        f"  moments over cap:    {sum(1 for s in samples if s > args.cap)} of {len(samples)} DB samples; "
        f"{rec.over_cap_at_vapi} POSTs with > cap live at Vapi (max live {rec.max_live_at_vapi})"
    )
    print(
        f"  refill delay:        p50 {_percentile(refill, 50) * 1000:.0f} ms, "
        f"p95 {_percentile(refill, 95) * 1000:.0f} ms (Vapi call end -> next POST /call, n={len(refill)})"
    )
    print(
        f"                       p50 {_percentile(hook_refill, 50) * 1000:.0f} ms, "
        f"p95 {_percentile(hook_refill, 95) * 1000:.0f} ms (on_call_ended called -> next POST /call)"
    )
    span = (posts[-1] - first_post_at) if len(posts) > 1 else float("nan")
    print(f"  dispatch rate:       {len(posts) / span:.1f} dials/s sustained over {span:.1f} s")


def _run_simulator(args: argparse.Namespace) -> None:  # noqa: C901, PLR0915
    """The same campaign against voiceops's Vapi simulator, with the real webhook in between.

    The simulator places each call and plays it (caller: the short hang-up scenario, outcomes
    drawn from its default mix) against ``POST /webhooks/vapi/`` on a threaded WSGI server in
    this process; the webhook processes the end-of-call report (eagerly, as CELERY_TASK_ALWAYS_EAGER
    does in tests) and calls ``on_call_ended``, whose refill goes to the dispatch worker threads.
    The simulator's org concurrency limit is --org-limit (60): an overshoot would show up as refused calls.
    """
    import datetime as dt
    import tempfile
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    import yaml
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections, connection

    import calls.campaigns.services.ended as ended_module
    import calls.hooks as hooks_module
    from assistants.models import Assistant, PhoneNumber
    from assistants.services import assistant_push
    from calls.campaigns.selectors import campaign_progress
    from calls.campaigns.services.dispatch import campaign_dispatch_due
    from calls.enums import CampaignState, RecipientState
    from calls.models import Call, Campaign, CampaignRecipient, Customer, DialAttempt
    from voiceops.simulator import player as player_module
    from voiceops.simulator import runner as runner_module
    from voiceops.simulator.runner import running_simulator
    from voiceops.simulator.scenarios import SCENARIO_DIR
    from voiceops.simulator.store import phone_number_id_for
    from voiceops.vapi import client as client_module

    rec = Recorder()
    work: queue.Queue[int | None] = queue.Queue()
    stop = threading.Event()
    number = "+12125550100"
    secret = "bench-campaign-secret"

    class Quiet(WSGIRequestHandler):
        def log_message(self, *a: object) -> None:
            return None

    class Pooled(WSGIServer):
        """A fixed pool of request threads, like granian's ``--blocking-threads`` (WEB_THREADS).

        A thread per request (``ThreadingMixIn``) opens a Django connection per request thread that
        outlives the thread until garbage collection: that is what held 85 of Postgres's 100
        connections. A fixed pool holds at most ``--web-threads`` of them (docs/SCALING.md)."""

        request_queue_size = 128

        def __init__(self, *a: object, **kw: object) -> None:
            super().__init__(*a, **kw)  # type: ignore[arg-type]
            self.pool = ThreadPoolExecutor(max_workers=args.web_threads, thread_name_prefix="web")

        def process_request(self, request: object, client_address: object) -> None:
            self.pool.submit(self._serve, request, client_address)

        def _serve(self, request: object, client_address: object) -> None:
            try:
                self.finish_request(request, client_address)  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001
                self.handle_error(request, client_address)  # type: ignore[arg-type]
            finally:
                self.shutdown_request(request)  # type: ignore[arg-type]

    processes = args.stack == "processes"
    web = None
    if not processes:
        web = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=Pooled, handler_class=Quiet)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        settings.PUBLIC_BASE_URL = f"http://127.0.0.1:{web.server_address[1]}"
    settings.VAPI_WEBHOOK_SECRET = [secret]
    settings.OUTBOUND_CUSTOMER_MAX_ATTEMPTS = 10
    settings.VAPI_CONCURRENCY_LIMIT = args.org_limit
    settings.OUTBOUND_REPORT_GRACE_SECONDS = 0  # retries are immediate in this bench's policy

    mix = yaml.safe_load((SCENARIO_DIR / "mix-default.yaml").read_text())
    mix["callers"] = {"hangs-up": 1}
    mix_file = Path(tempfile.mkdtemp()) / "mix-bench.yaml"
    mix_file.write_text(yaml.safe_dump(mix))

    # Time the two moments that define a refill: the end hook, and the next POST /call.
    original_create = client_module.VapiClient.call_create

    def timed_create(self: object, payload: dict) -> dict:
        now = time.monotonic()
        with rec.lock:
            rec.posts.append(now)
            if rec.pending_hooks:
                rec.hook_refill_delays.append(now - rec.pending_hooks.pop(0))
            if rec.pending_ends:
                rec.refill_delays.append(now - rec.pending_ends.pop(0))
        return original_create(self, payload)  # type: ignore[arg-type]

    original_hook = hooks_module.on_call_ended

    hooked: set[int] = set()

    def timed_hook(*, call: Call) -> None:
        with rec.lock:  # the first end event of a call (status-update ended, or the report)
            if call.pk not in hooked:
                hooked.add(call.pk)
                rec.pending_hooks.append(time.monotonic())
        original_hook(call=call)

    original_end = player_module.CallPlayer.end

    def timed_end(self: object, reason: str) -> None:
        with rec.lock:  # the moment Vapi ends the call: its slot at Vapi is free from here
            rec.pending_ends.append(time.monotonic())
            rec.ended_wall[str(self.call_id)] = time.time()  # type: ignore[attr-defined]
        original_end(self, reason)  # type: ignore[arg-type]

    player_module.CallPlayer.end = timed_end  # type: ignore[method-assign]
    if processes:  # POST /call is timed where it arrives: at the simulator, in this process
        original_admit = runner_module.Simulator.admit

        def timed_admit(self: object, add: object) -> object:
            timed_create(None, {})
            return original_admit(self, add)  # type: ignore[arg-type]

        runner_module.Simulator.admit = timed_admit  # type: ignore[method-assign]
        original_create = lambda self, payload: None  # noqa: E731 - only the timing above runs
    else:
        client_module.VapiClient.call_create = timed_create  # type: ignore[method-assign]
        hooks_module.on_call_ended = timed_hook
        ended_module.campaign_dispatch_enqueue = lambda *, campaign_id: work.put(campaign_id)

    with (
        running_simulator(
            time_factor=args.time_factor,
            seed=args.seed,
            phone_numbers=[number],
            mix=str(mix_file),
            concurrency_limit=args.org_limit,
            secret=secret,
            keep_bodies=False,
        ) as sim,
        contextlib.ExitStack() as stack,
    ):
        settings.VAPI_BASE_URL = sim.base_url
        queue_name = f"bench-campaign-{os.getpid()}"
        if processes:
            settings.PUBLIC_BASE_URL = stack.enter_context(
                _shipped_stack(args, sim.base_url, secret, queue_name)
            )
        assistant = Assistant.objects.create(
            name="Bench",
            first_message="Hi {{n}}.",
            system_prompt="Remind.",
            # The ended status frees the slot the moment Vapi ends the call; the report follows.
            server_messages=["status-update", "end-of-call-report"],
        )
        phone = PhoneNumber.objects.create(
            number=number, vapi_id=phone_number_id_for(number), provider="vapi"
        )
        assistant_push(assistant=assistant)
        assistant.refresh_from_db()
        campaign = Campaign.objects.create(
            name="bench",
            assistant=assistant,
            phone_number=phone,
            state=CampaignState.RUNNING,
            max_concurrent_calls=args.cap,
            max_calls_per_minute=1_000_000,
            max_attempts=3,
            reached_min_seconds=0,  # the short hang-up caller is the whole point of this bench
            window_start=dt.time(0, 0),
            window_end=dt.time(23, 59, 59),
            retry_policy={
                g: {"retry": True, "delay_minutes": 0} for g in ("busy", "no-answer", "voicemail", "failed")
            },
        )
        customers = Customer.objects.bulk_create(
            [
                Customer(number=f"+1202{5550000 + i:07d}", name=f"R {i}", time_zone="UTC")
                for i in range(args.recipients)
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
                    variables={"n": str(i)},
                )
                for i, c in enumerate(customers)
            ]
        )

        def worker() -> None:
            while True:
                item = work.get()
                if item is None:
                    break
                try:
                    campaign_dispatch_due(campaign=Campaign.objects.get(pk=item))
                finally:
                    close_old_connections()
            connection.close()

        def beat() -> None:
            while not stop.wait(args.tick):
                kick()

        def kick() -> None:
            if processes:  # what beat's campaigns_tick enqueues, on the stack's own queue
                from voiceops.celery import app as celery_app

                with warnings.catch_warnings():  # send_task ignores this process's eager setting
                    warnings.simplefilter("ignore")
                    celery_app.send_task("calls.campaign_dispatch", args=(campaign.pk,), queue=queue_name)
            else:
                work.put(campaign.pk)

        vapi_live: list[int] = []
        db_conns: list[int] = []

        def sampler() -> None:
            active = [RecipientState.DIALING, RecipientState.IN_CALL]
            ticks = 0
            while not stop.wait(0.05):
                n = CampaignRecipient.objects.filter(campaign=campaign, state__in=active).count()
                with rec.lock:
                    rec.samples.append(n)
                    vapi_live.append(sim.live_calls())
                ticks += 1
                if ticks % 20 == 0:  # every second: connections this bench holds to its database
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        )
                        db_conns.append(cursor.fetchone()[0])
            connection.close()

        threads = [] if processes else [threading.Thread(target=worker) for _ in range(args.workers)]
        side = [threading.Thread(target=beat), threading.Thread(target=sampler)]
        for t in threads + side:
            t.start()
        started = time.monotonic()
        kick()
        open_states = [
            RecipientState.PENDING,
            RecipientState.RETRY,
            RecipientState.DIALING,
            RecipientState.IN_CALL,
        ]
        while time.monotonic() - started < args.timeout:
            if not CampaignRecipient.objects.filter(campaign=campaign, state__in=open_states).exists():
                break
            time.sleep(0.2)
        finished = time.monotonic()
        stop.set()
        for _ in threads:
            work.put(None)
        for t in threads + side:
            t.join(timeout=30)
        sim.wait_for_calls(timeout=30)
        durations = [c.duration_seconds for c in Call.objects.filter(campaign=campaign) if c.duration_seconds]
        stages = _refill_stages(dict(rec.ended_wall))
        over_at_vapi = Call.objects.filter(campaign=campaign, ended_reason__contains="concurrency").count()
    if web is not None:
        web.shutdown()

    progress = campaign_progress(campaign=campaign)
    with rec.lock:
        posts, samples, hook_refill = list(rec.posts), list(rec.samples), list(rec.hook_refill_delays)
        refill = list(rec.refill_delays)
    busy_until = posts[-1] if posts else finished
    busy_share = (busy_until - started) / max(finished - started, 1e-9)
    busy_samples = samples[: max(1, int(len(samples) * busy_share))]
    busy_live = vapi_live[: max(1, int(len(vapi_live) * busy_share))]
    attempts = DialAttempt.objects.filter(campaign=campaign).count()
    span = (posts[-1] - posts[0]) if len(posts) > 1 else float("nan")
    stack_label = (
        f"shipped processes: scripts/web 1x{args.web_threads}, {args.ledger_workers} ledger worker(s), "
        f"Celery -c {args.workers}"
        if processes
        else f"in-process: {args.web_threads} web threads, {args.workers} dispatch worker threads"
    )
    print(
        f"campaign bench (Vapi simulator, time factor {args.time_factor:g}, webhook over HTTP): "
        f"{args.recipients} recipients, cap {args.cap} in an org limit of {args.org_limit}, "
        f"{stack_label}, beat {args.tick} s"
    )
    print(
        f"  finished:            {progress['remaining'] == 0} in {finished - started:.1f} s "
        f"({attempts} attempts, {len(posts)} POST /call; simulated call length "
        f"median {statistics.median(durations) if durations else float('nan'):.1f} s scenario time)"
    )
    print(f"  outcome mix:         {progress['outcome_mix']}")
    print(
        f"  slot use at Vapi:    {statistics.mean(busy_live) / args.cap:.2%} mean live calls at the "
        f"simulator / cap while dialing (mean {statistics.mean(busy_live):.1f} of {args.cap}, "
        f"max {max(vapi_live) if vapi_live else 0}, {len(busy_live)} samples)"
    )
    print(
        f"  slot use, our rows:  {statistics.mean(busy_samples) / args.cap:.2%} mean dialing+in-call "
        f"recipients / cap (max {max(samples) if samples else 0})"
    )
    print(
        f"  moments over cap:    {sum(1 for x in vapi_live if x > args.cap)} of {len(vapi_live)} simulator "
        f"samples; {sum(1 for x in samples if x > args.cap)} DB samples; "
        f"{over_at_vapi} calls refused for concurrency"
    )
    print(
        f"  refill delay:        p50 {_percentile(refill, 50) * 1000:.0f} ms, "
        f"p95 {_percentile(refill, 95) * 1000:.0f} ms (Vapi ends a call -> next POST /call, n={len(refill)})"
    )
    print(
        f"                       p50 {_percentile(hook_refill, 50) * 1000:.0f} ms, "
        f"p95 {_percentile(hook_refill, 95) * 1000:.0f} ms (on_call_ended called -> next POST /call)"
    )
    print(f"  dispatch rate:       {len(posts) / span:.1f} dials/s sustained over {span:.1f} s")
    print(
        f"  Postgres connections: max {max(db_conns) if db_conns else 0} held by this bench "
        f"and the processes it started ({stack_label}; sampler, main)"
    )
    for name, values in stages.items():
        print(
            f"  refill stage:        {name:<38} p50 {_percentile(values, 50) * 1000:4.0f} ms, "
            f"p95 {_percentile(values, 95) * 1000:4.0f} ms (n={len(values)})"
        )


def _refill_stages(ended_wall: dict[str, float]) -> dict[str, list[float]]:
    """Where a refill's time goes, from Vapi's end of each call (wall clock, this process) to the
    webhook row's arrival, to its processing, to the next reservation (a DialAttempt row) after."""
    import bisect

    from calls.models import DialAttempt, WebhookEvent

    first: dict[str, tuple[float, float]] = {}
    events = WebhookEvent.objects.filter(vapi_call_id__in=list(ended_wall)).values_list(
        "vapi_call_id", "message_type", "body", "received_at", "processed_at"
    )
    for call_id, kind, body, received, processed in events:
        ended = kind == "end-of-call-report" or (kind == "status-update" and '"ended"' in body)
        if not ended or processed is None:
            continue
        seen = first.get(call_id)
        if seen is None or processed.timestamp() < seen[1]:
            first[call_id] = (received.timestamp(), processed.timestamp())
    attempts = list(DialAttempt.objects.values_list("created_at", "requested_at", "accepted_at"))
    reserved = sorted(created.timestamp() for created, _, _ in attempts)
    stages: dict[str, list[float]] = {
        "Vapi end -> end event stored": [],
        "stored -> processed (on_call_ended)": [],
        "processed -> next reservation": [],
        "reservation -> sent (requesting)": [
            (requested - created).total_seconds() for created, requested, _ in attempts if requested
        ],
        "sent -> Vapi accepted the call": [
            (accepted - requested).total_seconds()
            for _, requested, accepted in attempts
            if requested and accepted
        ],
    }
    for call_id, end in ended_wall.items():
        if call_id not in first:
            continue
        received, processed = first[call_id]
        stages["Vapi end -> end event stored"].append(max(0.0, received - end))
        stages["stored -> processed (on_call_ended)"].append(max(0.0, processed - received))
        i = bisect.bisect_left(reserved, processed)
        if i < len(reserved):
            stages["processed -> next reservation"].append(reserved[i] - processed)
    return stages


@contextlib.contextmanager
def _shipped_stack(args: argparse.Namespace, vapi_url: str, secret: str, queue_name: str):  # noqa: ANN202
    """Start the web server (scripts/web, one process), the ledger worker and a Celery worker on
    this bench's database and a queue of its own, with the settings that ship (notify dispatch,
    group commit: tests/faults/child_settings.py). Yields the web server's URL; stops them after."""
    from django.db import connection

    from tests.faults.proxy import free_port

    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.faults.child_settings",
        "DATABASE_URL": f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "FAULT_QUEUE": queue_name,
        "VAPI_BASE_URL": vapi_url,
        "VAPI_WEBHOOK_SECRET": secret,
        "VAPI_CONCURRENCY_LIMIT": str(args.org_limit),
        "OUTBOUND_CUSTOMER_MAX_ATTEMPTS": "10",
        "OUTBOUND_REPORT_GRACE_SECONDS": "0",
        "CAMPAIGN_TICK_SECONDS": str(args.tick),
        "LOG_LEVEL": "WARNING",
        "WEB_PORT": str(port),
        "WEB_WORKERS": "1",
        "WEB_THREADS": str(args.web_threads),
        "WEB_LOG_LEVEL": "warning",
    }
    python = sys.executable
    commands = [
        ["bash", "scripts/web"],
        *[[python, "manage.py", "webhook_worker"]] * args.ledger_workers,
        [python, "-m", "celery", "-A", "voiceops", "worker", "-Q", queue_name, "-c", str(args.workers),
         "-l", "WARNING", "-n", f"{queue_name}@%h", "--without-gossip", "--without-mingle"],
    ]  # fmt: skip
    procs = [
        subprocess.Popen(c, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL)  # noqa: S603
        for c in commands
    ]
    try:
        import requests

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.3)
        time.sleep(3)  # the Celery worker's start-up
        yield f"http://127.0.0.1:{port}"
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=15)


if __name__ == "__main__":
    main()
