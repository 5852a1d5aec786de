"""``manage.py create_api_key NAME [--scopes read calls:write ...]`` — the key is the LAST line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from voiceops.api.models import ApiKey
from voiceops.api.scopes import Scope


class Command(BaseCommand):
    help = "Create an API key and print it (it is stored hashed and cannot be shown again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who or what uses the key, e.g. 'billing-service'.")
        parser.add_argument(
            "--scopes",
            nargs="+",
            default=[Scope.READ],
            metavar="SCOPE",
            help=f"Scopes (space or comma separated) from: {', '.join(Scope.values)}. Default: read.",
        )
        parser.add_argument("--rate-limit", default="", help="Per-key throttle, e.g. 1000/min.")

    def handle(self, *args: Any, name: str, scopes: list[str], rate_limit: str, **options: Any) -> None:
        wanted = sorted({s.strip() for item in scopes for s in item.split(",") if s.strip()})
        unknown = [s for s in wanted if s not in Scope.values]
        if unknown:
            raise CommandError(
                f"Unknown scope(s) {', '.join(unknown)}; choose from {', '.join(Scope.values)}."
            )
        if not name.strip() or len(name) > 50:
            raise CommandError("NAME must be 1-50 characters.")
        api_key = ApiKey(name=name.strip(), scopes=wanted, rate_limit=rate_limit)
        try:
            api_key.full_clean(exclude=["id", "prefix", "hashed_key"])
        except Exception as exc:  # noqa: BLE001 - a ValidationError's messages, shown to the operator
            raise CommandError(str(exc))
        key = ApiKey.objects.assign_key(api_key)
        api_key.save()
        self.stderr.write(
            f"Created API key '{api_key.name}' (prefix {api_key.prefix}, "
            f"scopes {', '.join(wanted) or 'none'}). "
            "Store it now: it cannot be shown again."
        )
        self.stdout.write(key)
