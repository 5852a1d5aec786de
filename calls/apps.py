from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = "Calls and campaigns"

    def ready(self) -> None:
        from calls.roles import roles_sync_after_migrate
        from voiceops import connections  # noqa: F401 - registers the connection budget check

        # Roles are rules over permissions; re-apply them once per migrate, after calls' own.
        post_migrate.connect(roles_sync_after_migrate, sender=self, dispatch_uid="calls.roles_sync")
