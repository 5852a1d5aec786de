"""``manage.py webhook_replay [ID ...] [--failed]``: re-process stored webhook events.

For ops after a fix: replays the given ledger rows, or every failed one, through
``webhook_event_replay`` (idempotent, so replaying an applied event changes nothing).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from calls.enums import EventState
from calls.models import WebhookEvent
from calls.services.events import webhook_event_replay


class Command(BaseCommand):
    help = "Re-process stored Vapi webhook events (by id, or all failed ones)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="WebhookEvent ids.")
        parser.add_argument("--failed", action="store_true", help="Replay every failed event.")
        parser.add_argument("--limit", type=int, default=1000, help="At most this many events.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["ids"] and not options["failed"]:
            raise CommandError("Give event ids, or --failed.")
        events = WebhookEvent.objects.order_by("id")
        if options["ids"]:
            events = events.filter(pk__in=options["ids"])
            missing = set(options["ids"]) - set(events.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"No webhook event with id {', '.join(map(str, sorted(missing)))}.")
        else:
            events = events.filter(state=EventState.FAILED)
        counts: dict[str, int] = {}
        for event in events[: options["limit"]]:
            webhook_event_replay(event=event)
            counts[event.state] = counts.get(event.state, 0) + 1
        summary = (
            ", ".join(f"{count} {state}" for state, count in sorted(counts.items())) or "nothing to replay"
        )
        self.stdout.write(f"Replayed: {summary}")
