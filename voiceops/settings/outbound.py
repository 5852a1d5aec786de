"""Outbound calls and campaigns: per-customer caps, crash recovery, Vapi's concurrency, pacing."""

import datetime as dt

from voiceops.settings.core import env

# Per-customer cap across every campaign and single call: dials in a rolling window.
OUTBOUND_CUSTOMER_MAX_ATTEMPTS = env.int("OUTBOUND_CUSTOMER_MAX_ATTEMPTS", default=5)
OUTBOUND_CUSTOMER_WINDOW_HOURS = env.int("OUTBOUND_CUSTOMER_WINDOW_HOURS", default=24)
# Crash recovery of dial attempts (calls/campaigns/services/recovery.py).
OUTBOUND_RESERVED_STALE_SECONDS = env.int("OUTBOUND_RESERVED_STALE_SECONDS", default=60)
OUTBOUND_REQUESTING_STALE_SECONDS = env.int("OUTBOUND_REQUESTING_STALE_SECONDS", default=120)
OUTBOUND_LOST_AFTER_SECONDS = env.int("OUTBOUND_LOST_AFTER_SECONDS", default=600)
# Unknown attempts are looked up at 5 s, 10 s, 20 s ... (at most every 5 min), and given up after
# OUTBOUND_RECONCILE_MAX_LOOKUPS looks once OUTBOUND_LOST_AFTER_SECONDS have passed.
OUTBOUND_RECONCILE_BASE_SECONDS = env.float("OUTBOUND_RECONCILE_BASE_SECONDS", default=5.0)
OUTBOUND_RECONCILE_MAX_SECONDS = env.float("OUTBOUND_RECONCILE_MAX_SECONDS", default=300.0)
OUTBOUND_RECONCILE_MAX_LOOKUPS = env.int("OUTBOUND_RECONCILE_MAX_LOOKUPS", default=8)
# The org's concurrent-call limit at Vapi (10 by default; Vapi's subscriptionLimits win when
# reported), and how many of those slots outbound calls leave free for inbound callers.
VAPI_CONCURRENCY_LIMIT = env.int("VAPI_CONCURRENCY_LIMIT", default=10)
OUTBOUND_INBOUND_RESERVE = env.int("OUTBOUND_INBOUND_RESERVE", default=2)
# A refusal without Retry-After (429, concurrency limit) waits 5 s, 10 s, 20 s ... at most 5 min.
OUTBOUND_REFUSAL_BACKOFF_SECONDS = env.float("OUTBOUND_REFUSAL_BACKOFF_SECONDS", default=5.0)
OUTBOUND_REFUSAL_BACKOFF_MAX_SECONDS = env.float("OUTBOUND_REFUSAL_BACKOFF_MAX_SECONDS", default=300.0)
# campaign.predial (Vapi-run campaigns): the calling window in the contact's local time, and
# whether a recorded consent is required before Vapi may dial.
PREDIAL_WINDOW_START = dt.time.fromisoformat(env.str("PREDIAL_WINDOW_START", default="08:00"))
PREDIAL_WINDOW_END = dt.time.fromisoformat(env.str("PREDIAL_WINDOW_END", default="21:00"))
PREDIAL_REQUIRES_CONSENT = env.bool("PREDIAL_REQUIRES_CONSENT", default=False)
# A call that ended but whose campaign effects were not applied is repaired after this long.
OUTBOUND_STALL_REPAIR_SECONDS = env.float("OUTBOUND_STALL_REPAIR_SECONDS", default=15.0)
# A retry decided from a status-update (no report yet) waits at least this long, so the report
# can correct it before anyone is dialled again.
OUTBOUND_REPORT_GRACE_SECONDS = env.float("OUTBOUND_REPORT_GRACE_SECONDS", default=120.0)
# The campaigns tick's beat entry is in settings/celery.py.
CAMPAIGN_TICK_SECONDS = env.float("CAMPAIGN_TICK_SECONDS", default=3.0)
# POST /call requests of one dispatch round in flight at once (HTTP-only threads: no DB connection).
CAMPAIGN_DIAL_CONCURRENCY = env.int("CAMPAIGN_DIAL_CONCURRENCY", default=4)
