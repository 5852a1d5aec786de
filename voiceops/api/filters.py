"""Filter fields every app's FilterSets share: ids checked as integers before any query, numbers as E.164."""

from __future__ import annotations

from typing import Any

import django_filters as df
from django import forms
from django.conf import settings
from django.db.models import QuerySet

from calls.enums import CampaignState, DecisionRule, RecipientState
from calls.models import Campaign, CampaignRecipient, DispatchDecision
from voiceops.phones import number_to_e164

MAX_ID = 2**63 - 1


class IdFilter(df.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def normalise_number(value: str) -> str:
    """E.164 when the value parses as a phone number ('+' often arrives as a space in query strings).

    Possible, not valid: a search for a number must find the row however new its range is."""
    value = value.strip()
    candidate = "+" + value if value[:1].isdigit() and len(value) > 10 else value
    return number_to_e164(candidate, region=settings.PHONENUMBER_DEFAULT_REGION) or value


class NumberCharFilter(df.CharFilter):
    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        return super().filter(qs, normalise_number(value) if value else value)


class CampaignFilter(df.FilterSet):
    state = df.MultipleChoiceFilter(choices=CampaignState.choices)
    assistant = IdFilter(field_name="assistant_id")

    class Meta:
        model = Campaign
        fields: list[str] = []


class RecipientFilter(df.FilterSet):
    state = df.MultipleChoiceFilter(choices=RecipientState.choices)

    class Meta:
        model = CampaignRecipient
        fields: list[str] = []


class DispatchDecisionFilter(df.FilterSet):
    """Why a number was (or was not) dialled: by campaign, rule, allowed, time."""

    campaign = IdFilter(field_name="campaign_id")
    customer = IdFilter(field_name="customer_id")
    rule = df.MultipleChoiceFilter(choices=DecisionRule.choices)
    allowed = df.BooleanFilter()
    at_after = df.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    at_before = df.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = DispatchDecision
        fields: list[str] = []
