"""``python manage.py purge_expired_data [--days N]`` — purge data past its retention age now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from voiceops.errors import DomainError
from voiceops.retention.models import RetentionPurge
from voiceops.retention.services import COUNT_FIELDS, retention_purge_expired


class Command(BaseCommand):
    help = (
        "Purge transcripts, recording URLs and raw webhook bodies older than RETENTION_DAYS "
        "(or a campaign's retention_days) and write a RetentionPurge audit row."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--days", type=int, default=None, help="Override RETENTION_DAYS for this run.")
        parser.add_argument("--batch-size", type=int, default=None, help="Rows per transaction.")

    def handle(self, *args: Any, days: int | None, batch_size: int | None, **options: Any) -> None:
        try:
            purge = retention_purge_expired(
                default_days=days, batch_size=batch_size, triggered_by=RetentionPurge.Trigger.COMMAND
            )
        except DomainError as exc:
            raise CommandError(exc.message)
        self.stdout.write(f"Purged data older than {purge.cutoff:%Y-%m-%d %H:%M} UTC (audit #{purge.id}):")
        for name in COUNT_FIELDS:
            self.stdout.write(f"  {name.replace('_', ' ')}: {getattr(purge, name)}")
