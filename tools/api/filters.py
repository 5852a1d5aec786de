"""FilterSets of the tools app's API: tools and appointments."""

from __future__ import annotations

import django_filters as df

from tools.models import Appointment, AppointmentStatus, Tool
from voiceops.api.filters import IdFilter


class ToolFilter(df.FilterSet):
    enabled = df.BooleanFilter()

    class Meta:
        model = Tool
        fields: list[str] = []


class AppointmentFilter(df.FilterSet):
    resource = IdFilter(field_name="resource_id")
    customer = IdFilter(field_name="customer_id")
    status = df.MultipleChoiceFilter(choices=AppointmentStatus.choices)
    starts_after = df.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = df.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Appointment
        fields: list[str] = []
