"""Phone numbers: the one place a raw number becomes E.164.

Every caller picks one of two acceptance levels, and the choice is the caller's because the
cost of a wrong answer differs:

- ``strict=True`` (``phonenumbers.is_valid_number``): the number exists in its country's
  numbering plan. For numbers we dial or file a customer under (a single call, a campaign's
  CSV, the customer a webhook links): a typo is refused or left unlinked rather than dialled
  or stored as someone's identity.
- ``strict=False`` (``is_possible_number``, only the length fits): for numbers Vapi already
  connected or owns (the caller's line, our own phone numbers) and for search. Refusing
  those over a stale copy of the numbering plan (a new range) would drop a real caller's
  identity or hide a number the operator typed.

``region`` reads a number written without "+country" (``"(555) 555-0123"``); ``None`` accepts
international form only. Callers that read a person's input pass
``settings.PHONENUMBER_DEFAULT_REGION`` (env ``PHONENUMBER_DEFAULT_REGION``, default ``US``);
masking numbers for logs lives in ``voiceops.logging.mask_number``.
"""

from __future__ import annotations

import functools

import phonenumbers


def number_to_e164(raw: str, *, region: str | None = None, strict: bool = False) -> str | None:
    """``raw`` in E.164, or None when it is not a phone number at the chosen level."""
    if not isinstance(raw, str):  # a payload's number may be anything
        return None
    return _to_e164(raw, region, strict)


# Parsing costs a tool call more than its database round trip, and a call's tool calls (and its
# webhooks) carry the same caller number again and again: the answer depends only on the input.
@functools.lru_cache(maxsize=4096)
def _to_e164(raw: str, region: str | None, strict: bool) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, region or None)
    except phonenumbers.NumberParseException:
        return None
    accepted = phonenumbers.is_valid_number(parsed) if strict else phonenumbers.is_possible_number(parsed)
    if not accepted:
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def numbers_match(said: str, *, on_file: str) -> bool:
    """Whether what a caller said is the E.164 number on file, reading what they said in the
    number's own country (a caller gives their national form, without "+1")."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(on_file, None))
        heard = phonenumbers.parse(said, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.format_number(heard, phonenumbers.PhoneNumberFormat.E164) == on_file
