"""Several dispatchers at once on one campaign with cap 5: never more than 5 active, never a
second dial for one attempt. Real threads, real Postgres connections, Vapi faked with responses."""

from __future__ import annotations

import collections
import datetime as dt
import random
import threading
import time

import pytest
import responses
import time_machine
from django.db import connection
from django.utils import timezone

from calls.campaigns.services.dispatch import campaign_dispatch_due
from calls.enums import AttemptState, RecipientState
from calls.models import Call, CampaignRecipient, DialAttempt
from tests.calls.campaign_support import FakeVapi, add_recipient, end_call, make_campaign

CAP = 5
RECIPIENTS = 24
ACTIVE = [RecipientState.DIALING, RecipientState.IN_CALL]


@pytest.fixture(autouse=True)
def _inside_the_calling_window():
    """These campaigns call all day (00:00-23:59:59 UTC), but a window always ends before midnight:
    the clock check's 23:59 run reached the last second and found every recipient outside it.
    Noon of the same (possibly shifted) day, ticking, for every thread."""
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon, tick=True):
        yield


@pytest.mark.django_db(transaction=True)
def test_parallel_dispatchers_never_exceed_cap_or_dial_an_attempt_twice():
    campaign = make_campaign(
        max_concurrent_calls=CAP,
        max_calls_per_minute=10_000,
        window_start=dt.time(0, 0),
        window_end=dt.time(23, 59, 59),
        max_attempts=2,
        retry_policy={
            g: {"retry": True, "delay_minutes": 0} for g in ("busy", "no-answer", "voicemail", "failed")
        },
    )
    for _ in range(RECIPIENTS):
        add_recipient(campaign, time_zone="UTC")
    observed: list[int] = []
    lock = threading.Lock()

    def active_now() -> int:
        return CampaignRecipient.objects.filter(campaign=campaign, state__in=ACTIVE).count()

    def on_create(payload):  # runs in the dispatching thread, at the moment of the dial
        with lock:
            observed.append(active_now())

    stop = threading.Event()
    errors: list[BaseException] = []

    def dispatcher():
        try:
            while not stop.is_set():
                campaign_dispatch_due(campaign=campaign)
                time.sleep(0.002)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    def ender():
        rng = random.Random(6)
        try:
            while not stop.is_set():
                live = list(Call.objects.filter(campaign=campaign, status="queued")[:3])
                with lock:
                    observed.append(active_now())
                for call in live:
                    end_call(call, rng.choice(["customer-ended-call", "customer-busy", "voicemail"]))
                time.sleep(0.005)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        vapi = FakeVapi(rsps, on_create=on_create)
        threads = [threading.Thread(target=dispatcher) for _ in range(3)] + [threading.Thread(target=ender)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        open_states = [RecipientState.PENDING, RecipientState.RETRY, *ACTIVE]
        while time.monotonic() < deadline:
            if not CampaignRecipient.objects.filter(campaign=campaign, state__in=open_states).exists():
                break
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    assert not errors, errors
    assert not CampaignRecipient.objects.filter(campaign=campaign, state__in=open_states).exists()
    assert observed and max(observed) <= CAP
    assert max(observed) == CAP  # the cap was actually reached, so the test can fail
    names = collections.Counter(p["name"] for p in vapi.payloads)
    assert names and max(names.values()) == 1  # one POST per attempt
    dialed = DialAttempt.objects.filter(campaign=campaign).exclude(state=AttemptState.ABANDONED)
    assert sorted(names) == sorted(a.vapi_name for a in dialed)
    per_recipient = collections.Counter(dialed.values_list("recipient_id", flat=True))
    assert max(per_recipient.values()) <= 2  # max_attempts


@pytest.mark.django_db(transaction=True)
def test_parallel_dispatchers_of_two_campaigns_and_single_calls_never_exceed_the_org_budget(settings):
    """Budget 8 (limit 10, reserve 2): campaign caps of 6 + 6 and API calls would be 12+."""
    from calls.campaigns.services.budget import outbound_in_use
    from calls.campaigns.services.outbound import call_place_outbound
    from voiceops.errors import TryLater

    settings.VAPI_CONCURRENCY_LIMIT = 10
    settings.OUTBOUND_INBOUND_RESERVE = 2
    settings.VAPI_PHONE_NUMBER_ID = "pn-default"
    campaigns = [
        make_campaign(
            max_concurrent_calls=6,
            max_calls_per_minute=10_000,
            window_start=dt.time(0, 0),
            window_end=dt.time(23, 59, 59),
            reached_min_seconds=0,
        )
        for _ in range(2)
    ]
    for campaign in campaigns:
        for _ in range(15):
            add_recipient(campaign, time_zone="UTC")
    observed: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def on_create(payload):  # at the moment of each dial: what holds a slot right now
        with lock:
            observed.append(outbound_in_use())

    def dispatcher(campaign):
        try:
            while not stop.is_set():
                campaign_dispatch_due(campaign=campaign)
                time.sleep(0.002)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    def single_caller():
        n = 0
        try:
            while not stop.is_set() and n < 40:
                n += 1
                try:
                    call_place_outbound(assistant=campaigns[0].assistant, customer_number=f"+1415555{n:04d}")
                except TryLater:
                    pass
                time.sleep(0.01)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    def ender():
        try:
            while not stop.is_set():
                for call in list(Call.objects.filter(status="queued")[:2]):
                    end_call(call, "customer-ended-call")
                time.sleep(0.01)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeVapi(rsps, on_create=on_create)
        threads = [threading.Thread(target=dispatcher, args=(c,)) for c in campaigns for _ in range(2)] + [
            threading.Thread(target=single_caller),
            threading.Thread(target=ender),
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while (
            time.monotonic() < deadline
            and CampaignRecipient.objects.exclude(
                state__in=[RecipientState.DONE, RecipientState.FAILED]
            ).exists()
        ):
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert observed and max(observed) <= 8, collections.Counter(observed)
    left = CampaignRecipient.objects.exclude(state=RecipientState.DONE)
    assert not left.exists(), list(left.values_list("state", "last_error"))
    assert DialAttempt.objects.filter(campaign=None).exists()  # single calls took part


@pytest.mark.django_db(transaction=True)
def test_a_dispatcher_that_finds_the_campaign_taken_leaves_at_once():
    """No convoy: every call end triggers a dispatch, and each one queueing on the campaign row
    held a Postgres connection (96 of 100 in the 500-call e2e test)."""
    campaign = make_campaign(
        max_concurrent_calls=CAP, max_calls_per_minute=10_000,
        window_start=dt.time(0, 0), window_end=dt.time(23, 59, 59),
    )  # fmt: skip
    for _ in range(CAP + 1):
        add_recipient(campaign, time_zone="UTC")
    holding, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        from django.db import transaction

        from calls.models import Campaign

        with transaction.atomic():
            Campaign.objects.select_for_update(no_key=True).get(pk=campaign.pk)
            holding.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert holding.wait(10)
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            vapi = FakeVapi(rsps)
            busy = campaign_dispatch_due(campaign=campaign)
        assert busy.busy and busy.reserved == [] and not vapi.created
        assert holder.is_alive() and not release.is_set()  # it returned while the row was still held
    finally:
        release.set()
        holder.join()

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        vapi = FakeVapi(rsps)
        after = campaign_dispatch_due(campaign=campaign)
    assert not after.busy and len(after.reserved) == CAP == len(vapi.created)
