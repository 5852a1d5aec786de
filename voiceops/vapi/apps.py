from django.apps import AppConfig


class VapiConfig(AppConfig):
    """Registered as an app so the simulator's management command is found."""

    name = "voiceops.vapi"
    label = "vapi"
