"""Filter fields every app's FilterSets share: ids checked as integers before any query, numbers as E.164."""

from __future__ import annotations

from typing import Any

import django_filters as df
from django import forms
from django.conf import settings
from django.db.models import QuerySet

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
