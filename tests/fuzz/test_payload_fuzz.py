"""The processing fuzz of bench/fuzz_webhooks.py, at a small count (the bench runs 100,000).

Every mutated real-shaped payload must be answered without a 5xx and every ledger row it
creates must be processed or ignored without an error, with nothing logged at ERROR.
"""

from __future__ import annotations

import json

import pytest

from bench.fuzz_webhooks import Mutator, fixture_documents, fuzz
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("seed", [1, 2])
def test_mutated_payloads_are_acknowledged_and_processed_without_error(client, tally, seed):
    ResourceFactory(name="Dr. Patel", time_zone="America/New_York", slot_minutes=30)
    result = fuzz(count=400, seed=seed, client=client, headers={"X-Vapi-Secret": "whsec-current-7a1d"})
    statuses = [status for status, count in result.statuses.items() for _ in range(count)]
    for index, status in enumerate(statuses):  # the suite's fuzzing tally counts every input
        tally(status, **({"processing_failures": result.failures} if index == 0 else {}))
    assert result.inputs == 400
    assert result.server_errors == 0, result.examples
    assert result.failures == 0, result.examples
    assert result.events_stored > 200  # most inputs are real-shaped enough to be stored


def test_the_mutator_is_deterministic_and_damages_every_payload():
    again, other = Mutator(7), Mutator(7)
    bodies = [again.payload() for _ in range(200)]
    assert bodies == [other.payload() for _ in range(200)]
    pristine = {json.dumps(d, sort_keys=True) for d in fixture_documents().values()}
    decoded = []
    for body in bodies:
        try:
            decoded.append(json.dumps(json.loads(body), sort_keys=True))
        except ValueError:
            decoded.append(None)
    assert not pristine & set(decoded)  # never a fixture as it is
    assert len(set(bodies)) == len(bodies)
    assert any(b"\\u0000" in b for b in bodies)  # hostile text is in the mix
