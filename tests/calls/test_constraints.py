"""Invariants that Postgres itself enforces."""

import pytest
from django.db import IntegrityError, transaction
from django.db.utils import InternalError

from calls.enums import CallStatus
from calls.models import Call
from calls.services.call_status import call_apply_status
from tests.factories import CallFactory, CampaignFactory, CustomerFactory, WebhookEventFactory

pytestmark = pytest.mark.django_db


def test_duplicate_vapi_call_id_is_rejected():
    call = CallFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CallFactory(vapi_id=call.vapi_id)


def test_duplicate_dedupe_key_is_rejected():
    event = WebhookEventFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEventFactory(dedupe_key=event.dedupe_key)


def test_duplicate_customer_number_is_rejected():
    customer = CustomerFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(number=customer.number)


def test_call_status_cannot_move_backwards_through_the_service():
    call = CallFactory(status=CallStatus.QUEUED)
    assert call_apply_status(call=call, status=CallStatus.IN_PROGRESS)
    assert not call_apply_status(call=call, status=CallStatus.RINGING)
    assert call_apply_status(call=call, status=CallStatus.ENDED)
    assert not call_apply_status(call=call, status=CallStatus.IN_PROGRESS)
    call.refresh_from_db()
    assert call.status == CallStatus.ENDED


def test_same_status_twice_is_a_no_op():
    call = CallFactory(status=CallStatus.RINGING)
    assert not call_apply_status(call=call, status=CallStatus.RINGING)
    assert not call_apply_status(call=call, status="not-a-status")
    call.refresh_from_db()
    assert call.status == CallStatus.RINGING


def test_database_trigger_refuses_a_backwards_status_from_any_code_path():
    call = CallFactory(status=CallStatus.ENDED)
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        Call.objects.filter(pk=call.pk).update(status=CallStatus.RINGING)
    call.refresh_from_db()
    assert call.status == CallStatus.ENDED


def test_unknown_call_status_is_rejected_by_check_constraint():
    with pytest.raises(IntegrityError), transaction.atomic():
        CallFactory(status="exploded")


def test_campaign_window_must_be_ordered():
    import datetime as dt

    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(window_start=dt.time(21, 0), window_end=dt.time(8, 0))


def test_campaign_concurrency_cap_must_be_positive():
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(max_concurrent_calls=0)
