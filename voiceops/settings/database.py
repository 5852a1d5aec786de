"""Postgres, the connection budget every process shares, and how long rows are kept."""

import os

from voiceops.settings.core import env

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/voiceops"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# --- the Postgres connection budget (voiceops/connections.py, docs/SCALING.md) ----------------
# Each DB-touching thread holds one connection, so these pool sizes fix the total. The processes
# read the same names: scripts/web and gunicorn.conf.py (WEB_*), the Celery worker (its
# concurrency comes from CELERY_WORKER_CONCURRENCY below), Procfile/compose (one ledger, one beat).
WEB_WORKERS_DEFAULT_MAX = 4  # one process per core, at most 4 unless WEB_WORKERS says otherwise
WEB_WORKERS = env.int("WEB_WORKERS", default=min(os.cpu_count() or 1, WEB_WORKERS_DEFAULT_MAX))
WEB_THREADS = env.int("WEB_THREADS", default=4)
LEDGER_WORKERS = env.int("LEDGER_WORKERS", default=1)
CELERY_WORKERS = env.int("CELERY_WORKERS", default=1)  # worker processes (hosts/replicas) you run
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=4)
DB_MAX_CONNECTIONS = env.int("DB_MAX_CONNECTIONS", default=100)  # Postgres's max_connections
# Kept free: superuser slots (3), shells, migrations, monitoring, a second deploy's start-up.
DB_RESERVED_CONNECTIONS = env.int("DB_RESERVED_CONNECTIONS", default=10)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A dead database must fail fast (webhook answers 503) rather than hang a worker.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=3)
    )

# The webhook's hot statements are PREPAREd once per connection (voiceops/sqlbatch.py). Off
# behind a transaction-mode pooler (PgBouncer), where a session's prepared statements may be
# on another server connection: each is then prepared and deallocated within its round trip.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)

# --- retention (voiceops/retention; its nightly purge is in settings/celery.py) ---------------
RETENTION_DAYS = env.int("RETENTION_DAYS", default=90)
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=1000)
