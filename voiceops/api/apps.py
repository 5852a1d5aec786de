from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The DRF API: API keys with scopes, idempotency records, error shape, schema."""

    name = "voiceops.api"
    label = "api"
    verbose_name = "API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from voiceops.api import schema  # noqa: F401 - registers the Api-Key security scheme
