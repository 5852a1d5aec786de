"""A local stand-in for Vapi: its REST API, and the server messages of every call it places.

Use ``python manage.py vapi_simulator --port 8200`` for a dev session (voiceops points at it
with ``VAPI_BASE_URL=http://127.0.0.1:8200``), or in tests::

    with running_simulator(server_url=url + "/webhooks/vapi/", secret="s", time_factor=200) as sim:
        client = VapiClient(base_url=sim.base_url)
"""

from voiceops.vapi.simulator.config import SimulatorConfig
from voiceops.vapi.simulator.delivery import Delivery, Faults, hmac_headers, sign_headers
from voiceops.vapi.simulator.runner import Simulator, running_simulator
from voiceops.vapi.simulator.scenarios import ScenarioError
from voiceops.vapi.simulator.store import phone_number_id_for

__all__ = [
    "Delivery",
    "Faults",
    "ScenarioError",
    "Simulator",
    "SimulatorConfig",
    "hmac_headers",
    "phone_number_id_for",
    "running_simulator",
    "sign_headers",
]
