"""FilterSets of the assistants app's API: assistants and phone numbers."""

from __future__ import annotations

import django_filters as df

from assistants.models import Assistant, PhoneNumber
from voiceops.api.filters import IdFilter


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
