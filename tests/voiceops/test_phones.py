"""The one phone-number normaliser: possible vs valid, regions, and what is not a number."""

from __future__ import annotations

import pytest

from voiceops.phones import number_to_e164, numbers_match


@pytest.mark.parametrize(
    ("raw", "region", "strict", "expected"),
    [
        ("+1 (202) 555-0142", None, True, "+12025550142"),
        ("(202) 555-0142", "US", True, "+12025550142"),
        ("(202) 555-0142", None, False, None),  # national form needs a region
        ("(202) 555-0142", "", False, None),  # an empty region is no region
        ("020 7946 0018", "GB", True, "+442079460018"),
        ("+44 20 7946 0018", "US", True, "+442079460018"),  # "+country" wins over the region
        ("+1 555 555 0123", None, False, "+15555550123"),  # possible (length fits) ...
        ("+1 555 555 0123", None, True, None),  # ... but not a valid US number
        ("sip:alice@example.com", None, False, None),
        ("anonymous", "US", False, None),
        ("12", "US", False, None),
        ("", "US", False, None),
    ],
)
def test_number_to_e164(raw, region, strict, expected):
    assert number_to_e164(raw, region=region, strict=strict) == expected


@pytest.mark.parametrize(
    ("said", "on_file", "expected"),
    [
        ("202 555 0142", "+12025550142", True),
        ("+1 202-555-0142", "+12025550142", True),
        ("020 7946 0018", "+442079460018", True),  # read in the number's own country
        ("202 555 0143", "+12025550142", False),
        ("not a number", "+12025550142", False),
    ],
)
def test_numbers_match(said, on_file, expected):
    assert numbers_match(said, on_file=on_file) is expected


@pytest.mark.parametrize("raw", [None, 14155550123, ["+14155550123"], {"number": "+14155550123"}])
def test_a_number_that_is_not_text_is_no_number(raw):
    """A payload's number may be anything; the cache behind the parse only takes text."""
    assert number_to_e164(raw) is None  # type: ignore[arg-type]


def test_a_remembered_number_answers_the_same_and_the_region_still_counts():
    first = number_to_e164("(415) 555-0123", region="US")
    again = number_to_e164("(415) 555-0123", region="US")
    assert first == again == "+14155550123"
    assert number_to_e164("(415) 555-0123") is None  # another region: another answer, not the cached one
