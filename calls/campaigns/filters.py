"""django-filter FilterSets of the campaign API. Ids are integers, checked before any query."""

from __future__ import annotations

import django_filters as df

from calls.enums import CampaignState, DecisionRule, RecipientState
from calls.models import Campaign, CampaignRecipient, DispatchDecision
from voiceops.api.filters import IdFilter


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
