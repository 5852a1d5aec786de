"""FilterSets of the calls app's API: calls, customers, webhook events."""

from __future__ import annotations

import django_filters as df

from calls.enums import CallStatus, Direction, EventState, Outcome
from calls.models import Call, Customer, WebhookEvent
from voiceops.api.filters import IdFilter, NumberCharFilter


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


class WebhookEventFilter(df.FilterSet):
    message_type = df.CharFilter(max_length=100)
    state = df.MultipleChoiceFilter(choices=EventState.choices)
    vapi_call_id = df.CharFilter(max_length=64)
    received_after = df.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = df.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = WebhookEvent
        fields: list[str] = []
