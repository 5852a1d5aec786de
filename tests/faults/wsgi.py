"""The WSGI app for fault tests' web servers: voiceops.wsgi with the web fault hooks installed.

Each granian worker imports this module, so the hooks are in every worker process (and in a
worker respawned after a kill).
"""

from tests.faults import hooks
from voiceops.wsgi import application

hooks.install_web_hooks()

__all__ = ["application"]
