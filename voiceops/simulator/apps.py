from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    """Registered as an app so the simulator's and the demo's management commands are found."""

    name = "voiceops.simulator"
    label = "simulator"
