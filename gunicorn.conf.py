"""gunicorn settings for voiceops: ``gunicorn voiceops.wsgi`` reads this file by itself.

The worker model is chosen by measurement (docs/SCALING.md, bench/webhook_bench.py):
threaded workers ("gthread"), because group commit needs many requests in flight in one
process to share one INSERT and one commit, and a thread waiting on Postgres costs little.
One process per core keeps every core busy past the GIL. Every value can be changed from
the environment without editing this file; command-line flags win over both.
"""

from __future__ import annotations

import multiprocessing
import os

bind = (
    os.environ.get("WEB_BIND")
    or f"{os.environ.get('WEB_HOST', '127.0.0.1')}:{os.environ.get('WEB_PORT', '8000')}"
)
worker_class = "gthread"
# One per core, at most 4 by default: each holds `threads` + 1 Postgres connections (SCALING.md).
workers = int(os.environ.get("WEB_WORKERS") or min(multiprocessing.cpu_count(), 4))
threads = int(os.environ.get("WEB_THREADS") or 4)
# Vapi and load balancers reuse connections; an idle one is closed after this.
keepalive = int(os.environ.get("WEB_KEEPALIVE") or 5)
timeout = int(os.environ.get("WEB_TIMEOUT") or 30)
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT") or 20)
# No access log by default: the webhook path writes no line per request (metrics count
# them). WEB_ACCESS_LOG=- writes one line per request to stdout.
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL") or "info"
