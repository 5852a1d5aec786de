"""The soak's verdict: the database checked against the simulator's own record (issue 20).

Each row is (check, value, must_be_zero). The simulator's side: the messages it delivered
and got a 2xx for (by the ledger's dedupe key), the calls it placed and played (status,
ended reason, transcript, cost as its report said), and what the harness sampled every
100 ms while it ran. The database's side is read directly (never through the proxy).
"""

from __future__ import annotations

import collections
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection

from assistants.models import Assistant
from calls.enums import ACTIVE_ATTEMPT_STATES, AttemptState, CallStatus, EventState, RecipientState
from calls.models import Call, Campaign, CampaignRecipient, DialAttempt, WebhookEvent
from tools.models import Appointment, AppointmentStatus
from voiceops.vapi.messages import REQUEST_RESPONSE_TYPES

FINAL_RECIPIENT_STATES = [
    RecipientState.DONE,
    RecipientState.FAILED,
    RecipientState.BLOCKED,
    RecipientState.CANCELLED,
]
Row = tuple[str, Any, bool]


def _ended_sim_calls(sim: Any) -> list[dict[str, Any]]:
    return [c for c in sim.store.list("calls") if c.get("status") == "ended"]


def unsettled(*, sim: Any, campaigns: list[Campaign]) -> str:
    """What the system is still doing ("" once settled): calls live at Vapi, events waiting,
    recipients or attempts not final, played calls not yet complete in the database."""
    live = sim.store.active_call_count() + sum(1 for p in sim.all_players() if not p.done.is_set())
    if live:
        return f"{live} call(s) still playing"
    waiting = WebhookEvent.objects.filter(state=EventState.RECEIVED).count()
    if waiting:
        return f"{waiting} event(s) not processed yet"
    recipients = CampaignRecipient.objects.filter(campaign__in=campaigns).exclude(
        state__in=FINAL_RECIPIENT_STATES
    )
    if recipients.exists():
        return f"{recipients.count()} recipient(s) not final"
    if DialAttempt.objects.filter(state__in=ACTIVE_ATTEMPT_STATES).exists():
        return "dial attempts open"
    ended = {c["id"] for c in _ended_sim_calls(sim)}
    complete = set(
        Call.objects.filter(vapi_id__in=ended, status=CallStatus.ENDED, has_final_report=True).values_list(
            "vapi_id", flat=True
        )
    )
    if not ended <= complete:
        return f"{len(ended - complete)} played call(s) not complete (reconciliation pending)"
    return ""


def _call_mismatches(sim_calls: list[dict[str, Any]]) -> tuple[int, int, list[str]]:
    """(complete and equal, mismatched, examples) for the calls the simulator played to the end."""
    ours = {c.vapi_id: c for c in Call.objects.filter(vapi_id__in=[c["id"] for c in sim_calls])}
    equal, wrong, examples = 0, 0, []
    for played in sim_calls:
        call = ours.get(played["id"])
        artifact = played.get("artifact") or {}
        problems = []
        if call is None:
            problems.append("missing")
        else:
            if call.status != CallStatus.ENDED or not call.has_final_report:
                problems.append(f"status {call.status}, report {call.has_final_report}")
            if call.ended_reason != (played.get("endedReason") or ""):
                problems.append(f"reason {call.ended_reason!r} != {played.get('endedReason')!r}")
            if call.transcript_text != (artifact.get("transcript") or ""):
                problems.append("transcript differs")
            cost = Decimal(str(played.get("cost") or 0)).quantize(Decimal("0.000001"))
            if (call.cost or Decimal(0)) != cost:
                problems.append(f"cost {call.cost} != {cost}")
        if problems:
            wrong += 1
            if len(examples) < 5:
                examples.append(f"{played['id']}: {'; '.join(problems)}")
        else:
            equal += 1
    return equal, wrong, examples


def _overlapping_bookings() -> int:
    table = Appointment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {table} a JOIN {table} b ON a.resource_id = b.resource_id AND a.id < b.id"  # noqa: S608
            " AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at"
            " WHERE a.status = %s AND b.status = %s",
            [AppointmentStatus.BOOKED, AppointmentStatus.BOOKED],
        )
        return int(cursor.fetchone()[0])


def checks(
    *, sim: Any, record: Any, campaigns: list[Campaign], org_limit: int, caps: dict[str, int]
) -> list[Row]:
    rows: list[Row] = []
    counted = (
        set(settings.VAPI_WEBHOOK_HIGH_VOLUME_TYPES)
        if settings.VAPI_WEBHOOK_HIGH_VOLUME_MODE == "count"
        else set()
    )
    with record.lock:
        acknowledged = {k: v for k, v in record.acknowledged.items() if v[0] not in counted}
        confirmations = set(record.confirmations)
        server_errors = list(record.server_errors)
        outages = list(record.outages)

    def in_outage(moment: float) -> bool:
        return any(start <= moment <= end for start, end in outages)

    stored_keys = set(
        WebhookEvent.objects.filter(dedupe_key__in=list(acknowledged)).values_list("dedupe_key", flat=True)
    )
    missing = [v for k, v in acknowledged.items() if k not in stored_keys]
    # With the database down the view answers a waiting caller with a speakable refusal it
    # cannot store (calls/webhooks/views.py): acknowledged, deliberately not stored.
    answered_unstored = [v for v in missing if v[0] in REQUEST_RESPONSE_TYPES and in_outage(v[1])]
    states = collections.Counter(WebhookEvent.objects.values_list("state", flat=True))
    rows += [
        ("events acknowledged (2xx, distinct)", len(acknowledged), False),
        ("events stored", len(stored_keys), False),
        ("  answered while the DB was cut, not stored (by design)", len(answered_unstored), False),
        ("  acknowledged but not stored", len(missing) - len(answered_unstored), True),
        ("  stored: processed", states[EventState.PROCESSED], False),
        ("  stored: ignored (deliberately)", states[EventState.IGNORED], False),
        ("  stored: not processed (received)", states[EventState.RECEIVED], True),
        ("  stored: failed", states[EventState.FAILED], True),
        ("deliveries not acknowledged (faults)", record.failed_deliveries, False),
    ]
    for error, count in record.delivery_errors.most_common(4):
        rows.append((f"    {error}", count, False))

    played = _ended_sim_calls(sim)
    equal, wrong, examples = _call_mismatches(played)
    rows += [
        ("calls played by the simulator", len(played), False),
        ("  inbound calls placed", record.inbound_placed, False),
        ("  complete in DB, equal to the report", equal, False),
        ("  missing/incomplete/different", wrong, True),
    ]
    for example in examples:
        rows.append((f"    {example}", "", False))
    live_at_vapi = [c for c in sim.store.list("calls") if c.get("status") != "ended"]
    rows.append(("calls still live at the simulator", len(live_at_vapi), True))

    campaign_assistants = {
        a for a in Assistant.objects.filter(campaigns__in=campaigns).values_list("vapi_id", flat=True)
    }
    placed = [c for c in sim.store.list("calls") if c.get("assistantId") in campaign_assistants]
    per_attempt = collections.Counter(c.get("name") for c in placed)
    attempts = DialAttempt.objects.filter(campaign__in=campaigns)
    known = set(attempts.exclude(vapi_call_id="").values_list("vapi_call_id", flat=True))
    rows += [
        ("dial attempts (DB)", attempts.count(), False),
        ("  by state", dict(collections.Counter(attempts.values_list("state", flat=True))), False),
        ("dials placed at the simulator", len(placed), False),
        ("  attempts dialled more than once", sum(1 for n in per_attempt.values() if n > 1), True),
        ("  placed calls unknown to the DB", sum(1 for c in placed if c["id"] not in known), True),
        ("  recipients dialled more than max_attempts", _over_attempts(campaigns), True),
        (f"max live outbound calls (org limit {org_limit})", record.max_active, False),
        ("  samples over the org limit (100 ms)", record.over_org_limit, True),
        (
            f"max live per campaign (caps {sorted(caps.values())})",
            dict(record.max_by_campaign) and sorted(record.max_by_campaign.values()),
            False,
        ),
        ("  samples over a campaign cap", record.over_cap, True),
        ("  samples taken", record.samples, False),
    ]
    recipients = CampaignRecipient.objects.filter(campaign__in=campaigns)
    rows += [
        ("recipients", recipients.count(), False),
        ("  not in a final state", recipients.exclude(state__in=FINAL_RECIPIENT_STATES).count(), True),
        ("attempts open", DialAttempt.objects.filter(state__in=ACTIVE_ATTEMPT_STATES).count(), True),
        (
            "slots held (campaign calls not ended)",
            Call.objects.filter(campaign__in=campaigns).exclude(status=CallStatus.ENDED).count(),
            True,
        ),
        (
            "  recipients dialling or in a call",
            recipients.filter(state__in=[RecipientState.DIALING, RecipientState.IN_CALL]).count(),
            True,
        ),
    ]
    codes = set(
        Appointment.objects.filter(confirmation_code__in=list(confirmations)).values_list(
            "confirmation_code", flat=True
        )
    )
    rows += [
        (
            "appointments booked/cancelled",
            f"{Appointment.objects.filter(status=AppointmentStatus.BOOKED).count()}/{Appointment.objects.filter(status=AppointmentStatus.CANCELLED).count()}",
            False,
        ),
        ("  overlapping bookings", _overlapping_bookings(), True),
        ("  confirmations read to callers", len(confirmations), False),
        ("  confirmations without an appointment", len(confirmations - codes), True),
    ]
    inside = [e for e in server_errors if in_outage(e[0])]
    rows += [
        ("webhook 5xx during injected outages", len(inside), False),
        ("webhook 5xx outside injected outages", len(server_errors) - len(inside), True),
    ]
    return rows


def _over_attempts(campaigns: list[Campaign]) -> int:
    """Recipients that used more real attempts than allowed. A call Vapi created but refused for
    the org's concurrency (``concurrencyBlocked``) has an id and is not an attempt (issue 15)."""
    limit = {c.pk: c.max_attempts for c in campaigns}
    counts = collections.Counter(
        DialAttempt.objects.filter(campaign__in=campaigns)
        .exclude(vapi_call_id="")
        .exclude(state=AttemptState.REFUSED)
        .values_list("campaign_id", "recipient_id")
    )
    return sum(1 for (campaign_id, _), n in counts.items() if n > limit[campaign_id])


def print_table(rows: list[Row]) -> int:
    """Print the table; 1 when a must-be-0 row is not 0."""
    rows = [(name if len(name) <= 64 else name[:61] + "...", value, zero) for name, value, zero in rows]
    width = max(len(name) for name, _, _ in rows) + 2
    rows = [
        (name, value if len(str(value)) <= 40 else str(value)[:37] + "...", zero)
        for name, value, zero in rows
    ]
    failed = 0
    print(f"\n{'check'.ljust(width)}{'value':>12}  must be 0")
    print("-" * (width + 25))
    for name, value, must_be_zero in rows:
        bad = must_be_zero and value != 0
        failed += bad
        flag = ("FAIL" if bad else "ok") if must_be_zero else ""
        print(f"{name.ljust(width)}{value!s:>12}  {flag}")
    print(
        f"\n{'FAILED: ' + str(failed) + ' must-be-0 row(s) not 0' if failed else 'all must-be-0 rows are 0'}"
    )
    return 1 if failed else 0
