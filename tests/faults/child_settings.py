"""Settings for processes started by fault tests: test settings plus a queue of their own.

Fault hooks (tests/faults/hooks.py) are installed in each worker process when the
environment asks for them; nothing here changes behaviour otherwise.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import (
    CELERY_BROKER_TRANSPORT_OPTIONS,
    SHIPPED_WEBHOOK_DISPATCH,
    SHIPPED_WEBHOOK_GROUP_COMMIT,
)

# Servers in fault tests run the dispatch that ships (notify + group commit, unless a test's
# environment says otherwise), not the unit suite's eager Celery.
VAPI_WEBHOOK_DISPATCH = SHIPPED_WEBHOOK_DISPATCH
VAPI_WEBHOOK_GROUP_COMMIT = SHIPPED_WEBHOOK_GROUP_COMMIT

CELERY_TASK_DEFAULT_QUEUE = os.environ.get("FAULT_QUEUE", "celery")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": int(os.environ.get("FAULT_VISIBILITY_TIMEOUT", "3600")),
}

from celery.signals import worker_process_init  # noqa: E402


@worker_process_init.connect
def _install_fault_hooks(**kwargs):
    from tests.faults import hooks

    hooks.install_worker_hooks()
