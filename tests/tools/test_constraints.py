"""Booking and tool-call invariants enforced by Postgres."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from tests.factories import AppointmentFactory, ToolInvocationFactory
from tools.models import AppointmentStatus, ToolInvocation

pytestmark = pytest.mark.django_db


def test_overlapping_active_appointments_of_one_resource_are_rejected():
    first = AppointmentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(
            resource=first.resource,
            starts_at=first.starts_at + dt.timedelta(minutes=15),
            ends_at=first.ends_at + dt.timedelta(minutes=15),
        )


def test_back_to_back_appointments_are_allowed():
    first = AppointmentFactory()
    second = AppointmentFactory(
        resource=first.resource, starts_at=first.ends_at, ends_at=first.ends_at + dt.timedelta(minutes=30)
    )
    assert second.pk


def test_a_cancelled_appointment_frees_its_slot():
    first = AppointmentFactory(status=AppointmentStatus.CANCELLED)
    again = AppointmentFactory(resource=first.resource, starts_at=first.starts_at, ends_at=first.ends_at)
    assert again.status == AppointmentStatus.BOOKED


def test_other_resources_may_overlap():
    first = AppointmentFactory()
    other = AppointmentFactory(starts_at=first.starts_at, ends_at=first.ends_at)
    assert other.resource_id != first.resource_id


def test_appointment_must_end_after_it_starts():
    first = AppointmentFactory.build()
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentFactory(starts_at=first.starts_at, ends_at=first.starts_at)


def test_duplicate_tool_call_id_in_one_call_is_rejected():
    invocation = ToolInvocationFactory(vapi_call_id="vapi-one")
    with pytest.raises(IntegrityError), transaction.atomic():
        ToolInvocationFactory(tool_call_id=invocation.tool_call_id, vapi_call_id="vapi-one")


def test_the_same_tool_call_id_in_another_call_is_another_invocation():
    invocation = ToolInvocationFactory(tool_call_id="call_0", vapi_call_id="vapi-one")
    ToolInvocationFactory(tool_call_id=invocation.tool_call_id, vapi_call_id="vapi-two")
    assert ToolInvocation.objects.filter(tool_call_id="call_0").count() == 2
