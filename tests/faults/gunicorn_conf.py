"""gunicorn config for fault tests: the shipped gunicorn.conf.py, plus the web fault hooks
installed in each worker (so faults are injected into the configuration that ships)."""

import runpy
from pathlib import Path

_shipped = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
globals().update({name: value for name, value in _shipped.items() if not name.startswith("_")})


def post_worker_init(worker):
    from tests.faults import hooks

    hooks.install_web_hooks()
