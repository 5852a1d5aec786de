"""Argument serializers of the built-in tools.

Each serializer is the single source of a tool's JSON Schema (see ``tools.registry``) and
of its validation. ``error_messages`` are written to be read by the assistant, which
relays them to the caller or fixes its own call ("I need the date as year-month-day").
"""

from __future__ import annotations

import zoneinfo

from rest_framework import serializers

DATE_HELP = "I need the date as year-month-day, for example 2026-03-17."
TIME_HELP = "I need the time as hours and minutes on a 24-hour clock, for example 14:30."
ZONE_HELP = "I need the time zone as a region and city, for example America/Chicago."
TIME_FORMATS = ["%H:%M", "%H:%M:%S", "%H.%M", "%I:%M %p", "%I:%M%p", "%I %p", "%I%p"]


def date_field(**kwargs) -> serializers.DateField:
    return serializers.DateField(
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": DATE_HELP, "required": DATE_HELP, "null": DATE_HELP},
        help_text="Date as YYYY-MM-DD, in the caller's time zone.",
        **kwargs,
    )


def time_field(**kwargs) -> serializers.TimeField:
    return serializers.TimeField(
        input_formats=TIME_FORMATS,
        error_messages={"invalid": TIME_HELP, "required": TIME_HELP, "null": TIME_HELP},
        help_text="Start time as HH:MM (24-hour clock), in the caller's time zone.",
        **kwargs,
    )


class TimeZoneField(serializers.CharField):
    default_error_messages = {"bad_zone": ZONE_HELP}

    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip()
        if value and value not in zoneinfo.available_timezones():
            self.fail("bad_zone")
        return value


class ConfirmationCodeField(serializers.CharField):
    """Codes are spoken back with spaces or dashes; normalise to the stored form."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return "".join(ch for ch in value.upper() if ch.isalnum())


def _resource() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Who or what to book, by name (e.g. 'Dr. Patel'). Leave out when there is only one.",
    )


def _booked_from_number() -> serializers.CharField:
    """The verification step for acting on an appointment not booked from the caller's line."""
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text=(
            "Only if the caller says the appointment was booked from a different phone number: that "
            "number, as the caller says it. Needed, with the code, to act on it; never guess it."
        ),
    )


def _time_zone() -> TimeZoneField:
    return TimeZoneField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="IANA time zone the caller is speaking in, if not their usual one (e.g. America/Chicago).",
    )


def _code() -> ConfirmationCodeField:
    return ConfirmationCodeField(
        min_length=4,
        max_length=20,
        error_messages={
            "required": "I need the confirmation code of the appointment.",
            "blank": "I need the confirmation code of the appointment.",
            "min_length": "The confirmation code is six letters and digits.",
            "max_length": "The confirmation code is six letters and digits.",
        },
        help_text="The appointment's confirmation code, e.g. K7QX2M.",
    )


class GetCustomerInfoArgs(serializers.Serializer):
    """No arguments: the customer is always the caller on the line."""


class CheckAvailabilityArgs(serializers.Serializer):
    resource = _resource()
    date = date_field(required=False)
    count = serializers.IntegerField(
        required=False,
        default=3,
        min_value=1,
        max_value=10,
        error_messages={
            "invalid": "The number of times to offer must be a whole number.",
            "min_value": "I can offer between 1 and 10 times.",
            "max_value": "I can offer between 1 and 10 times.",
        },
        help_text="How many free times to offer when no date is given.",
    )
    time_zone = _time_zone()


class BookAppointmentArgs(serializers.Serializer):
    resource = _resource()
    date = date_field()
    time = time_field()
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="The caller's name, for a new customer."
    )
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Reason for the visit, if given."
    )
    time_zone = _time_zone()


class CancelAppointmentArgs(serializers.Serializer):
    confirmation_code = _code()
    booked_from_number = _booked_from_number()


class RescheduleAppointmentArgs(serializers.Serializer):
    confirmation_code = _code()
    booked_from_number = _booked_from_number()
    date = date_field()
    time = time_field()
    time_zone = _time_zone()


class OptOutArgs(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="The caller's words, if they gave a reason.",
    )
