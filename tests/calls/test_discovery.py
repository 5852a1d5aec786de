"""Discovery: calls Vapi lists that no webhook ever stored are recorded, once, from Vapi's Call."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
import time_machine
from django.db import connection

from calls.campaigns.services.dispatch import DispatchResult, _reserve
from calls.enums import ACTIVE_ATTEMPT_STATES, AttemptState, CallStatus, Outcome, RecipientState, TurnSource
from calls.models import Call, CallDiscoveryCursor, Campaign, CampaignRecipient, DialAttempt
from calls.serializers import CallSerializer
from calls.services.discovery import call_discover, calls_discover, vapi_time
from calls.services.reconciliation import calls_reconcile
from calls.tasks import reconcile_calls
from tests.calls.campaign_support import add_recipient, make_campaign
from tests.conftest import load_fixture
from tests.factories import CallFactory
from voiceops.simulator.resources import filtered

pytestmark = pytest.mark.django_db

VAPI = "http://vapi.test"
NOON = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.UTC)


def vapi_call(*, minutes_ago: float, status: str = "ended", **fields: Any) -> dict[str, Any]:
    """Vapi's Call object (the REST fixture) created ``minutes_ago`` before NOON."""
    data = load_fixture("rest/call-ended.json")
    created = NOON - dt.timedelta(minutes=minutes_ago)
    data.update(id=str(uuid.uuid4()), createdAt=vapi_time(created), updatedAt=vapi_time(created), name=None)
    if status != "ended":
        data.update(status=status, endedReason=None, endedAt=None, cost=None, analysis=None)
        data["artifact"] = {"messages": data["artifact"]["messages"][:2]}
    return data | fields


class VapiList:
    """GET /call as Vapi answers it: a plain array, newest first, filtered and limited (the
    simulator's own filter); while ``down`` is a status code, every request gets it."""

    def __init__(self, rsps: responses.RequestsMock, calls: list[dict[str, Any]]) -> None:
        self.calls = calls
        self.queries: list[dict[str, str]] = []
        self.down: int | None = None
        rsps.add_callback(responses.GET, f"{VAPI}/call", callback=self._list)

    def _list(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = dict(parse_qsl(urlsplit(request.url).query))
        self.queries.append(query)
        if self.down:
            return self.down, {}, json.dumps({"message": "unavailable", "statusCode": self.down})
        newest_first = sorted(self.calls, key=lambda c: c["createdAt"], reverse=True)
        return (
            200,
            {},
            json.dumps(filtered(newest_first, query, exact=("id", "assistantId", "phoneNumberId"))),
        )


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def tick(django_capture_on_commit_callbacks):
    """One discovery tick at ``at`` (default NOON), running what it scheduled on commit."""

    def _tick(at: dt.datetime = NOON) -> int:
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return calls_discover()

    return _tick


def test_an_unknown_ended_call_is_recorded_complete_and_shown_as_recovered(rsps, tick, admin_client):
    data = vapi_call(minutes_ago=30)
    VapiList(rsps, [data])
    assert tick() == 1
    call = Call.objects.get(vapi_id=data["id"])
    assert (call.status, call.ended_reason, call.outcome) == (
        CallStatus.ENDED,
        "assistant-said-end-call-phrase",
        Outcome.COMPLETED,
    )
    assert call.has_final_report and call.cost == Decimal("0.242000") and call.summary
    assert call.transcript_text == data["artifact"]["transcript"]
    assert set(call.turns.values_list("source", flat=True)) == {TurnSource.REPORT}
    assert call.direction == "outbound" and call.customer.number == "+14155550123"
    assert call.recovered_at == NOON
    assert CallSerializer(call).data["recovered_at"] == "2026-11-25T17:00:00Z"
    page = admin_client.get("/admin/calls/call/?recovered_at__isempty=0")
    assert page.status_code == 200 and call.vapi_id[:8] in page.content.decode()


def test_an_unknown_live_call_is_created_live_then_completed_by_reconciliation(rsps, tick):
    data = vapi_call(
        minutes_ago=12, status="in-progress", startedAt=vapi_time(NOON - dt.timedelta(minutes=12))
    )
    VapiList(rsps, [data])
    assert tick() == 1
    call = Call.objects.get(vapi_id=data["id"])
    assert call.status == CallStatus.IN_PROGRESS and not call.has_final_report and call.recovered_at == NOON
    ended = load_fixture("rest/call-ended.json") | {"id": data["id"]}
    rsps.get(f"{VAPI}/call/{data['id']}", json=ended)
    with time_machine.travel(NOON + dt.timedelta(minutes=20), tick=False):
        assert calls_reconcile() == 1
    call.refresh_from_db()
    assert call.status == CallStatus.ENDED and call.has_final_report and call.cost == Decimal("0.242000")


def test_a_known_call_is_not_touched(rsps, tick):
    data = vapi_call(minutes_ago=30)
    known = CallFactory(vapi_id=data["id"], status=CallStatus.ENDED, has_final_report=True)
    VapiList(rsps, [data])
    assert tick() == 0
    assert Call.objects.get(pk=known.pk).updated_at == known.updated_at
    assert Call.objects.get(pk=known.pk).recovered_at is None


def test_a_recovered_call_is_not_touched_by_a_later_tick(rsps, tick):
    data = vapi_call(minutes_ago=12)
    VapiList(rsps, [data])
    assert tick() == 1
    before = Call.objects.get(vapi_id=data["id"]).updated_at
    assert tick(NOON + dt.timedelta(minutes=10)) == 0  # re-read in the overlap, known by then
    assert Call.objects.get(vapi_id=data["id"]).updated_at == before


def test_pages_are_followed_across_ticks_and_calls_sharing_a_moment_are_not_skipped(rsps, tick, settings):
    settings.VAPI_DISCOVER_PAGE_SIZE = 2
    settings.VAPI_DISCOVER_MAX_PAGES = 3
    calls = [vapi_call(minutes_ago=m) for m in (20, 21, 22, 23, 24)]
    calls += [vapi_call(minutes_ago=21) for _ in range(2)]  # three calls in one millisecond
    vapi = VapiList(rsps, calls)
    assert tick() == 6  # three pages (and the crowded millisecond) this tick, the rest waits
    cursor = CallDiscoveryCursor.objects.get()
    assert cursor.window_end is not None and cursor.page_before is not None
    assert tick(NOON + dt.timedelta(seconds=5)) == 1
    assert Call.objects.filter(recovered_at__isnull=False).count() == 7
    assert vapi.queries[0] == {
        "limit": "2",
        "createdAtGe": vapi_time(NOON - dt.timedelta(hours=48)),
        "createdAtLt": vapi_time(NOON - dt.timedelta(minutes=10)),
    }
    twenty_one = vapi_time(NOON - dt.timedelta(minutes=21))
    assert vapi.queries[1]["createdAtLe"] == twenty_one  # the boundary's millisecond is read again
    assert {"limit": "1000", "createdAtGe": twenty_one, "createdAtLe": twenty_one} in vapi.queries
    cursor.refresh_from_db()
    assert cursor.window_start is None and cursor.scanned_until == NOON - dt.timedelta(minutes=10)
    assert cursor.calls_recovered == 7


def test_the_watermark_prevents_rescanning(rsps, tick):
    vapi = VapiList(rsps, [vapi_call(minutes_ago=30), vapi_call(minutes_ago=7)])
    assert tick() == 1  # created 7 minutes ago: within the grace, left to its webhooks for now
    assert tick(NOON + dt.timedelta(minutes=5)) == 1
    assert len(vapi.queries) == 2
    # The second window starts 5 minutes (the overlap) before the first ended, not 48 h back.
    assert vapi.queries[1]["createdAtGe"] == vapi_time(NOON - dt.timedelta(minutes=15))
    assert vapi.queries[1]["createdAtLt"] == vapi_time(NOON - dt.timedelta(minutes=5))
    assert Call.objects.filter(recovered_at__isnull=False).count() == 2


@pytest.mark.parametrize("status", [429, 503])
def test_vapi_failing_keeps_the_window_for_the_next_tick(rsps, tick, settings, status):
    settings.VAPI_DISCOVER_PAGE_SIZE = 1
    vapi = VapiList(rsps, [vapi_call(minutes_ago=m) for m in (30, 40)])
    vapi.down = status  # through the client's own retries too
    assert tick() == 0
    cursor = CallDiscoveryCursor.objects.get()
    assert str(status) in cursor.last_error or "Vapi" in cursor.last_error
    assert cursor.window_start is not None and cursor.leased_until is None
    assert tick(NOON + dt.timedelta(minutes=1)) == 0
    vapi.down = None
    assert tick(NOON + dt.timedelta(minutes=2)) == 2  # the same window, resumed
    first = vapi.queries[0]
    assert first["createdAtLt"] == vapi_time(NOON - dt.timedelta(minutes=10))
    assert vapi.queries.count(first) >= 3  # the same page until it was read
    assert Call.objects.filter(recovered_at__isnull=False).count() == 2
    assert CallDiscoveryCursor.objects.get().last_error == ""


def _reserved_attempt() -> tuple[Campaign, CampaignRecipient, DialAttempt]:
    """A campaign recipient with one attempt reserved half an hour before NOON."""
    campaign = make_campaign()
    recipient = add_recipient(campaign)
    with time_machine.travel(NOON - dt.timedelta(minutes=30), tick=False):
        result = DispatchResult(campaign_id=campaign.pk)
        _reserve(campaign_id=campaign.pk, now=NOON - dt.timedelta(minutes=30), result=result)
    return campaign, recipient, DialAttempt.objects.get(pk=result.reserved[0])


def test_a_call_of_a_dial_attempt_waiting_for_it_completes_the_attempt_and_the_recipient(rsps, tick):
    campaign, recipient, attempt = _reserved_attempt()
    # The POST answer was lost and every webhook of the call too.
    DialAttempt.objects.filter(pk=attempt.pk).update(
        state=AttemptState.UNKNOWN, requested_at=NOON - dt.timedelta(minutes=30)
    )
    CampaignRecipient.objects.filter(pk=recipient.pk).update(attempts=1)
    data = vapi_call(minutes_ago=30, name=attempt.vapi_name, endedReason="customer-ended-call")
    VapiList(rsps, [data])
    assert tick() == 1
    attempt.refresh_from_db()
    assert (attempt.state, attempt.vapi_call_id, attempt.outcome_final) == (
        AttemptState.ENDED,
        data["id"],
        True,
    )
    call = Call.objects.get(vapi_id=data["id"])
    assert (call.campaign_id, call.campaign_recipient_id, call.recovered_at) == (
        campaign.pk,
        recipient.pk,
        NOON,
    )
    recipient.refresh_from_db()
    assert (recipient.state, recipient.attempts) == (RecipientState.DONE, 1)
    assert DialAttempt.objects.filter(recipient=recipient).count() == 1
    assert not DialAttempt.objects.filter(state__in=ACTIVE_ATTEMPT_STATES).exists()


def test_a_call_of_an_attempt_already_given_up_is_recorded_without_moving_the_recipient(rsps, tick):
    campaign, recipient, attempt = _reserved_attempt()
    DialAttempt.objects.filter(pk=attempt.pk).update(state=AttemptState.LOST)
    CampaignRecipient.objects.filter(pk=recipient.pk).update(state=RecipientState.PENDING, attempts=0)
    data = vapi_call(minutes_ago=30, name=attempt.vapi_name)
    VapiList(rsps, [data])
    assert tick() == 1
    assert Call.objects.get(vapi_id=data["id"]).has_final_report
    attempt.refresh_from_db()
    recipient.refresh_from_db()
    assert attempt.state == AttemptState.LOST and (recipient.state, recipient.attempts) == ("pending", 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_discovery_records_a_call_once():
    data = vapi_call(minutes_ago=30)
    barrier = threading.Barrier(4)

    def discover(_: int) -> bool:
        try:
            barrier.wait()
            return call_discover(data=data, now=NOON)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(discover, range(4)))
    assert sorted(results) == [False, False, False, True]
    assert Call.objects.filter(vapi_id=data["id"]).count() == 1


def test_a_second_tick_while_one_holds_the_cursor_does_nothing(rsps, tick):
    vapi = VapiList(rsps, [vapi_call(minutes_ago=30)])
    CallDiscoveryCursor.objects.create(name="calls", leased_until=NOON + dt.timedelta(minutes=1))
    assert tick() == 0 and vapi.queries == []
    assert tick(NOON + dt.timedelta(minutes=2)) == 1  # a lease left by a killed worker expires


def test_discovery_can_be_switched_off(rsps, tick, settings):
    settings.VAPI_DISCOVER_ENABLED = False
    vapi = VapiList(rsps, [vapi_call(minutes_ago=30)])
    assert tick() == 0 and vapi.queries == []


def test_the_beat_task_reconciles_then_discovers(rsps):
    data = vapi_call(minutes_ago=30)
    VapiList(rsps, [data])
    with time_machine.travel(NOON, tick=False):
        reconcile_calls.delay()
    assert Call.objects.get(vapi_id=data["id"]).recovered_at == NOON
