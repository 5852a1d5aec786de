import types

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "voiceops.console"
    label = "console"
    verbose_name = "Console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from voiceops.console.index import console_app_list

        admin.site.get_app_list = types.MethodType(console_app_list, admin.site)  # type: ignore[method-assign]
