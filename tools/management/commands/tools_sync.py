"""``python manage.py tools_sync``: create a Tool row for every tool declared in code."""

from django.core.management.base import BaseCommand

from tools.registry import all_specs, tools_sync


class Command(BaseCommand):
    help = "Create missing Tool rows for the tools declared in the registry."

    def handle(self, *args, **options):
        created = tools_sync()
        names = ", ".join(spec.name for spec in all_specs())
        self.stdout.write(f"{created} tool row(s) created; registry: {names}")
