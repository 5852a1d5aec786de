"""django-filter FilterSets for the API. Ids are integers, checked before any query."""

from __future__ import annotations

from typing import Any

import django_filters as df
import phonenumbers
from django import forms
from django.conf import settings
from django.db.models import QuerySet

from assistants.models import Assistant, PhoneNumber
from calls.enums import (
    CallStatus,
    Direction,
    EventState,
    Outcome,
)
from calls.models import Call, Customer, WebhookEvent
from tools.models import Appointment, AppointmentStatus, Tool

MAX_ID = 2**63 - 1


class IdFilter(df.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def normalise_number(value: str) -> str:
    """E.164 when the value parses as a phone number ('+' often arrives as a space in query strings)."""
    value = value.strip()
    candidate = "+" + value if value[:1].isdigit() and len(value) > 10 else value
    try:
        parsed = phonenumbers.parse(candidate, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(parsed):
        return value
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class NumberCharFilter(df.CharFilter):
    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        return super().filter(qs, normalise_number(value) if value else value)


class CallFilter(df.FilterSet):
    status = df.MultipleChoiceFilter(choices=CallStatus.choices)
    outcome = df.MultipleChoiceFilter(choices=Outcome.choices)
    direction = df.ChoiceFilter(choices=Direction.choices)
    assistant = IdFilter(field_name="assistant_id")
    campaign = IdFilter(field_name="campaign_id")
    customer = IdFilter(field_name="customer_id")
    customer_number = NumberCharFilter(max_length=40, help_text="E.164, e.g. +12025550123.")
    vapi_id = df.CharFilter(max_length=64)
    created_after = df.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = df.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    started_after = df.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = df.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = Call
        fields: list[str] = []


class CustomerFilter(df.FilterSet):
    number = NumberCharFilter(max_length=40)
    external_id = df.CharFilter(max_length=200)
    do_not_call = df.BooleanFilter()

    class Meta:
        model = Customer
        fields: list[str] = []


class AssistantFilter(df.FilterSet):
    name = df.CharFilter(lookup_expr="icontains", max_length=40)
    push_state = df.CharFilter(max_length=16)

    class Meta:
        model = Assistant
        fields: list[str] = []


class PhoneNumberFilter(df.FilterSet):
    assistant = IdFilter(field_name="assistant_id")

    class Meta:
        model = PhoneNumber
        fields: list[str] = []


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


class WebhookEventFilter(df.FilterSet):
    message_type = df.CharFilter(max_length=100)
    state = df.MultipleChoiceFilter(choices=EventState.choices)
    vapi_call_id = df.CharFilter(max_length=64)
    received_after = df.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = df.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = WebhookEvent
        fields: list[str] = []
