"""Vapi: the REST client, webhook authentication and dispatch, reconciliation, assistant push."""

from voiceops.settings.core import env

VAPI_API_KEY = env.str("VAPI_API_KEY", default="")
VAPI_BASE_URL = env.str("VAPI_BASE_URL", default="https://api.vapi.ai").rstrip("/")
VAPI_PHONE_NUMBER_ID = env.str("VAPI_PHONE_NUMBER_ID", default="")
VAPI_TIMEOUT_CONNECT = env.float("VAPI_TIMEOUT_CONNECT", default=3.05)
VAPI_TIMEOUT_READ = env.float("VAPI_TIMEOUT_READ", default=15.0)
VAPI_RETRIES = env.int("VAPI_RETRIES", default=3)
VAPI_WEBHOOK_SECRET = [s for s in env.list("VAPI_WEBHOOK_SECRET", default=[]) if s]
VAPI_WEBHOOK_AUTH = env.list("VAPI_WEBHOOK_AUTH", default=["secret", "bearer", "hmac"])
VAPI_WEBHOOK_MAX_BYTES = env.int("VAPI_WEBHOOK_MAX_BYTES", default=8 * 1024 * 1024)
VAPI_WEBHOOK_BEARER_HEADER = env.str("VAPI_WEBHOOK_BEARER_HEADER", default="Authorization")
VAPI_WEBHOOK_HMAC_ALGORITHM = env.str("VAPI_WEBHOOK_HMAC_ALGORITHM", default="sha256")
VAPI_WEBHOOK_HMAC_SIGNATURE_HEADER = env.str("VAPI_WEBHOOK_HMAC_SIGNATURE_HEADER", default="x-signature")
VAPI_WEBHOOK_HMAC_TIMESTAMP_HEADER = env.str("VAPI_WEBHOOK_HMAC_TIMESTAMP_HEADER", default="x-timestamp")
VAPI_WEBHOOK_HMAC_PREFIX = env.str("VAPI_WEBHOOK_HMAC_PREFIX", default="")
VAPI_WEBHOOK_HMAC_ENCODING = env.str("VAPI_WEBHOOK_HMAC_ENCODING", default="hex")
VAPI_WEBHOOK_HMAC_PAYLOAD_FORMAT = env.str("VAPI_WEBHOOK_HMAC_PAYLOAD_FORMAT", default="{timestamp}.{body}")
VAPI_WEBHOOK_HMAC_TOLERANCE_SECONDS = env.int("VAPI_WEBHOOK_HMAC_TOLERANCE_SECONDS", default=300)
VAPI_WEBHOOK_HMAC_SECRET_IS_BASE64 = env.bool("VAPI_WEBHOOK_HMAC_SECRET_IS_BASE64", default=False)
# Deeper JSON than this is refused with 400 before anything walks it recursively.
VAPI_WEBHOOK_MAX_DEPTH = env.int("VAPI_WEBHOOK_MAX_DEPTH", default=64)
# High-volume informational types: "store" keeps them in the ledger (marked ignored, never
# processed), "count" only counts them. Partial transcripts are named "transcript-partial".
VAPI_WEBHOOK_HIGH_VOLUME_TYPES = env.list(
    "VAPI_WEBHOOK_HIGH_VOLUME_TYPES", default=["speech-update", "transcript-partial", "model-output"]
)
VAPI_WEBHOOK_HIGH_VOLUME_MODE = env.str("VAPI_WEBHOOK_HIGH_VOLUME_MODE", default="store")
# How stored events reach a worker: "celery" publishes one Celery message per event after
# commit; "notify" sends a Postgres NOTIFY from the INSERT itself (no Redis on the request
# path) and `manage.py webhook_worker` claims pending rows in batches with SKIP LOCKED.
# "notify" is the default (docs/SCALING.md): it needs `manage.py webhook_worker` running.
VAPI_WEBHOOK_DISPATCH = env.str("VAPI_WEBHOOK_DISPATCH", default="notify")
# Group commit: informational webhooks of one process share one INSERT and one commit; each
# request is answered only after the commit that holds its row.
VAPI_WEBHOOK_GROUP_COMMIT = env.bool("VAPI_WEBHOOK_GROUP_COMMIT", default=True)
VAPI_WEBHOOK_GROUP_COMMIT_MAX_ROWS = env.int("VAPI_WEBHOOK_GROUP_COMMIT_MAX_ROWS", default=64)
# After a failed publish, skip publishing for this long (events wait for the sweeper).
VAPI_WEBHOOK_BROKER_BACKOFF_SECONDS = env.float("VAPI_WEBHOOK_BROKER_BACKOFF_SECONDS", default=5.0)
VAPI_WEBHOOK_SWEEP_AFTER_SECONDS = env.int("VAPI_WEBHOOK_SWEEP_AFTER_SECONDS", default=60)
VAPI_WEBHOOK_MAX_ATTEMPTS = env.int("VAPI_WEBHOOK_MAX_ATTEMPTS", default=5)
# Reconciliation: a call not ended this many minutes after it should have is fetched from Vapi.
VAPI_RECONCILE_GRACE_MINUTES = env.int("VAPI_RECONCILE_GRACE_MINUTES", default=10)
VAPI_RECONCILE_LOOKBACK_HOURS = env.int("VAPI_RECONCILE_LOOKBACK_HOURS", default=48)
# Discovery: list Vapi's calls (GET /call) and record those no webhook ever stored here. Windows
# end VAPI_RECONCILE_GRACE_MINUTES ago, start VAPI_DISCOVER_OVERLAP_MINUTES before the last one
# ended, and are read at most VAPI_DISCOVER_MAX_PAGES pages of VAPI_DISCOVER_PAGE_SIZE per tick.
VAPI_DISCOVER_ENABLED = env.bool("VAPI_DISCOVER_ENABLED", default=True)
VAPI_DISCOVER_PAGE_SIZE = min(max(env.int("VAPI_DISCOVER_PAGE_SIZE", default=100), 1), 1000)
VAPI_DISCOVER_MAX_PAGES = max(env.int("VAPI_DISCOVER_MAX_PAGES", default=10), 1)
VAPI_DISCOVER_OVERLAP_MINUTES = env.float("VAPI_DISCOVER_OVERLAP_MINUTES", default=5.0)
VAPI_DEFAULT_MAX_DURATION_SECONDS = env.int("VAPI_DEFAULT_MAX_DURATION_SECONDS", default=600)
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- assistants: push to Vapi, the server block pushed with them --------------------------
# Longest Retry-After the REST client waits in-process; longer 429s go back to the Celery task.
VAPI_RETRY_AFTER_MAX = env.float("VAPI_RETRY_AFTER_MAX", default=30.0)
# Which webhook credential voiceops keeps in Vapi: hmac, bearer or secret (X-Vapi-Secret).
# Empty = the first of hmac/bearer/secret that VAPI_WEBHOOK_AUTH accepts.
VAPI_WEBHOOK_CREDENTIAL_TYPE = env.str("VAPI_WEBHOOK_CREDENTIAL_TYPE", default="")
VAPI_SERVER_TIMEOUT_SECONDS = env.int("VAPI_SERVER_TIMEOUT_SECONDS", default=20)
VAPI_SERVER_BACKOFF_TYPE = env.str("VAPI_SERVER_BACKOFF_TYPE", default="exponential")
VAPI_SERVER_BACKOFF_MAX_RETRIES = env.int("VAPI_SERVER_BACKOFF_MAX_RETRIES", default=3)
VAPI_SERVER_BACKOFF_BASE_DELAY_SECONDS = env.float("VAPI_SERVER_BACKOFF_BASE_DELAY_SECONDS", default=1.0)
ASSISTANT_PUSH_ON_SAVE = env.bool("ASSISTANT_PUSH_ON_SAVE", default=False)
ASSISTANT_PUSH_MAX_RETRIES = env.int("ASSISTANT_PUSH_MAX_RETRIES", default=2)
# The drift check's beat entry is in settings/celery.py.
ASSISTANT_DRIFT_CHECK_SECONDS = env.int("ASSISTANT_DRIFT_CHECK_SECONDS", default=900)
