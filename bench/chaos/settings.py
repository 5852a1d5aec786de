"""Settings of the processes a soak starts: production settings, only the beat intervals shortened.

The sweeper (stored-but-unprocessed events) and reconciliation (calls whose last events were
lost) run every minute / five minutes in production; a soak of a few minutes must see them
run several times, so ``SOAK_*`` variables shorten their schedule and grace. Nothing else
differs from ``voiceops.settings``.
"""

import os

from voiceops.settings import *  # noqa: F403
from voiceops.settings import CELERY_BEAT_SCHEDULE

_SWEEP = float(os.environ.get("SOAK_SWEEP_SECONDS", "60"))
_RECONCILE = float(os.environ.get("SOAK_RECONCILE_SECONDS", "300"))

CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE,
    "webhook-events-sweep": {**CELERY_BEAT_SCHEDULE["webhook-events-sweep"], "schedule": _SWEEP},
    "calls-reconcile": {**CELERY_BEAT_SCHEDULE["calls-reconcile"], "schedule": _RECONCILE},
}
# Minutes, as a float so a short soak can reconcile after seconds.
VAPI_RECONCILE_GRACE_MINUTES = float(os.environ.get("SOAK_RECONCILE_GRACE_MINUTES", "10"))  # type: ignore[assignment]
