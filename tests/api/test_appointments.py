"""/api/v1/appointments/ and /api/v1/resources/ (reads)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import AppointmentFactory, ResourceFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/appointments/"


def test_list_and_filter(reader):
    resource = ResourceFactory()
    start = (timezone.now() + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    mine = AppointmentFactory(resource=resource, starts_at=start, ends_at=start + dt.timedelta(minutes=30))
    AppointmentFactory()
    body = reader.get(URL, {"resource": resource.pk}).json()
    assert [a["id"] for a in body["results"]] == [mine.pk]
    assert body["results"][0]["confirmation_code"] == mine.confirmation_code
    assert reader.get(URL, {"status": "cancelled"}).json()["count"] == 0


def test_resources_list(reader):
    ResourceFactory(name="Dr. Lee")
    assert [r["name"] for r in reader.get("/api/v1/resources/").json()["results"]] == ["Dr. Lee"]
