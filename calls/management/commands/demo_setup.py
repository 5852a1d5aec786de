"""Prepare a demo: an admin user (login printed) and the demo data set."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USER = "admin"
DEMO_PASSWORD = "voiceops-demo"


class Command(BaseCommand):
    help = "Create the demo admin user and seed demo data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=DEMO_USER, defaults={"is_staff": True, "is_superuser": True}
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        self.stdout.write(self.style.SUCCESS("voiceops demo is starting."))
        self.stdout.write("  Admin:    http://127.0.0.1:8000/admin/")
        self.stdout.write(f"  Login:    {DEMO_USER} / {DEMO_PASSWORD}")
        self.stdout.write("  API docs: http://127.0.0.1:8000/api/docs/")
