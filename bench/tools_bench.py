"""book_appointment round trip through POST /webhooks/vapi/ vs a bare Django JSON view.

    .venv/bin/python bench/tools_bench.py [--concurrency 32] [--requests 40] [--workers 2] [--threads 16]

Starts gunicorn (gthread) on a free 127.0.0.1 port with the production settings plus one
bare view, and drives both with the same concurrent callers and the same tool-calls body
(the contract fixture, ~7 KB). Every booking request takes a distinct free slot, so each
one does the full hot path: authenticate, ledger row, idempotency claim, customer and
resource lookup, the INSERT checked by the exclusion constraint, the recorded answer.
A third run repeats the same slots with new toolCallIds: the refusal path, which also
searches the next free times. Uses the database in DATABASE_URL (.env); it migrates it and
deletes what it created afterwards. Prints one table; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lib.harness import HEADER, gunicorn_server, run_load  # noqa: E402

SECRET = "bench-webhook-secret-4f1c"
SERVER_ENV = {
    "SECRET_KEY": "bench-not-secret",
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "VAPI_WEBHOOK_SECRET": SECRET,
    "VAPI_WEBHOOK_AUTH": "secret",
    "LOG_LEVEL": "WARNING",
    "PUBLIC_BASE_URL": "http://127.0.0.1",
}
SLOT_MINUTES = 5
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES


def setup_django() -> None:
    os.environ.update({k: v for k, v in SERVER_ENV.items() if k not in os.environ or k == "DEBUG"})
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.lib.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=40, help="requests per caller per target")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    setup_django()
    from calls.models import WebhookEvent
    from tests.conftest import load_fixture
    from tools.models import Appointment, Resource, ToolInvocation
    from tools.registry import tools_sync

    tools_sync()
    run_id = uuid.uuid4().hex[:10]
    every_day = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    resource = Resource.objects.create(
        name=f"Bench room {run_id}", time_zone="UTC", slot_minutes=SLOT_MINUTES, working_hours=every_day
    )
    first_day = dt.date.today() + dt.timedelta(days=2)
    template = load_fixture("tool-calls.json")
    call_ids = [str(uuid.uuid4()) for _ in range(args.concurrency)]

    def message_body(caller: int, n: int, *, salt: str, slot: int) -> bytes:
        day = first_day + dt.timedelta(days=slot // SLOTS_PER_DAY)
        minutes = (slot % SLOTS_PER_DAY) * SLOT_MINUTES
        envelope = json.loads(json.dumps(template))
        message = envelope["message"]
        message.pop("toolWithToolCallList", None)
        message["call"]["id"] = call_ids[caller]
        number = f"+1415555{9000 + caller:04d}"
        message["customer"]["number"] = number
        message["call"]["customer"]["number"] = number
        message["toolCallList"] = [
            {
                "id": f"bench-{run_id}-{salt}-{caller}-{n}",
                "type": "function",
                "function": {
                    "name": "book_appointment",
                    "arguments": {
                        "resource": resource.name,
                        "date": day.isoformat(),
                        "time": f"{minutes // 60:02d}:{minutes % 60:02d}",
                        "name": f"Bench caller {caller}",
                    },
                },
            }
        ]
        return json.dumps(envelope).encode()

    per = args.requests
    c = args.concurrency

    def slot_of(caller: int, n: int, base: int) -> int:
        return base + n * c + caller

    def booked(status: int, payload: bytes) -> bool:
        return status == 200 and b"Booked with" in payload

    def refused(status: int, payload: bytes) -> bool:
        return status == 200 and b"was just taken" in payload

    headers = {"X-Vapi-Secret": SECRET}
    warm = 3
    results = []
    try:
        with gunicorn_server(env=SERVER_ENV, workers=args.workers, threads=args.threads) as port:
            probe = message_body(0, 0, salt="probe", slot=10_000_000 // SLOT_MINUTES)
            import http.client

            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(
                "POST", "/webhooks/vapi/", body=probe, headers={"Content-Type": "application/json", **headers}
            )
            response = conn.getresponse()
            text = response.read()
            conn.close()
            if response.status == 404:
                sys.exit(
                    "POST /webhooks/vapi/ is not routed on this branch yet (merge the webhook work first)."
                )
            print(f"probe: {response.status} {text[:160]!r}")

            def warmup(path: str, salt: str, base: int) -> None:
                run_load(
                    label="warmup",
                    port=port,
                    path=path,
                    concurrency=c,
                    requests_per_caller=warm,
                    body_for=lambda i, n: message_body(i, n, salt=salt, slot=slot_of(i, n, base)),
                    headers=headers,
                )

            book_base = 0
            warmup("/bench/bare/", "warm-bare", 5_000_000)
            results.append(
                run_load(
                    label="bare Django JSON view",
                    port=port,
                    path="/bench/bare/",
                    concurrency=c,
                    requests_per_caller=per,
                    headers=headers,
                    body_for=lambda i, n: message_body(i, n, salt="bare", slot=slot_of(i, n, book_base)),
                )
            )
            warmup("/webhooks/vapi/", "warm-book", 4_000_000 // SLOT_MINUTES)
            results.append(
                run_load(
                    label="book_appointment via webhook",
                    port=port,
                    path="/webhooks/vapi/",
                    concurrency=c,
                    requests_per_caller=per,
                    headers=headers,
                    check=booked,
                    body_for=lambda i, n: message_body(i, n, salt="book", slot=slot_of(i, n, book_base)),
                )
            )
            results.append(
                run_load(
                    label="book_appointment, slot taken",
                    port=port,
                    path="/webhooks/vapi/",
                    concurrency=c,
                    requests_per_caller=per,
                    headers=headers,
                    check=refused,
                    body_for=lambda i, n: message_body(i, n, salt="taken", slot=slot_of(i, n, book_base)),
                )
            )
    finally:
        Appointment.objects.filter(resource=resource).delete()
        ToolInvocation.objects.filter(tool_call_id__startswith=f"bench-{run_id}").delete()
        WebhookEvent.objects.filter(vapi_call_id__in=call_ids).delete()
        resource.delete()

    print(
        f"\n{c} concurrent callers x {per} requests each per target; gunicorn gthread "
        f"{args.workers} workers x {args.threads} threads; {os.cpu_count()} CPUs; "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    print(HEADER)
    for stats in results:
        print(stats.row())
    for stats in results:
        for sample in stats.samples:
            print(f"  failed ({stats.label}): {sample}")


if __name__ == "__main__":
    main()
