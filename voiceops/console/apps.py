import types

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "voiceops.console"
    label = "console"
    verbose_name = "Console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin
        from simple_history.signals import pre_create_historical_record

        from voiceops.console.history import stamp_api_key
        from voiceops.console.index import console_app_list

        pre_create_historical_record.connect(stamp_api_key, dispatch_uid="console-history-api-key")

        admin.site.get_app_list = types.MethodType(console_app_list, admin.site)  # type: ignore[method-assign]
        from voiceops.console.two_factor import ConsoleLoginForm

        admin.site.login_form = ConsoleLoginForm
        admin.site.login_template = "console/login.html"
