"""List endpoints run the same number of queries for 2 rows as for 30 (no N+1).

For each endpoint: count the queries for a small page, then add many more rows (with
their related rows) and assert the big page needs no more queries than the small one.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    AppointmentFactory,
    AssistantFactory,
    CallFactory,
    CampaignFactory,
    CampaignRecipientFactory,
    CustomerFactory,
    PhoneNumberFactory,
    ToolFactory,
    ToolInvocationFactory,
    TranscriptTurnFactory,
    WebhookEventFactory,
)

pytestmark = pytest.mark.django_db


def _call_with_details():
    call = CallFactory(campaign=CampaignFactory())
    for position in range(3):
        TranscriptTurnFactory(call=call, position=position)
    ToolInvocationFactory(call=call)
    ToolInvocationFactory(call=call)


def _assistant_with_tools():
    assistant = AssistantFactory()
    assistant.tools.add(ToolFactory(), ToolFactory())


def _campaign_with_pool():
    campaign = CampaignFactory()
    campaign.phone_numbers.add(PhoneNumberFactory(), PhoneNumberFactory())


_recipient_campaign = {}


def _recipient():
    CampaignRecipientFactory(campaign=_recipient_campaign["c"])


CASES = {
    "calls": ("/api/v1/calls/", _call_with_details),
    "assistants": ("/api/v1/assistants/", _assistant_with_tools),
    "phone-numbers": ("/api/v1/phone-numbers/", PhoneNumberFactory),
    "tools": ("/api/v1/tools/", ToolFactory),
    "customers": ("/api/v1/customers/", CustomerFactory),
    "campaigns": ("/api/v1/campaigns/", _campaign_with_pool),
    "recipients": ("/api/v1/campaigns/{c}/recipients/", _recipient),
    "appointments": ("/api/v1/appointments/", AppointmentFactory),
    "webhook-events": ("/api/v1/webhook-events/", WebhookEventFactory),
}


@pytest.mark.parametrize("name", list(CASES))
def test_list_query_count_is_independent_of_rows(name, reader, django_assert_max_num_queries):
    url, make = CASES[name]
    _recipient_campaign["c"] = CampaignFactory()
    url = url.format(c=_recipient_campaign["c"].pk)
    for _ in range(2):
        make()
    reader.get(url)  # warm-up: key's last_used_at write, content types
    with CaptureQueriesContext(connection) as few:
        response = reader.get(url)
    assert response.status_code == 200 and len(response.json()["results"]) >= 2
    for _ in range(30):
        make()
    with django_assert_max_num_queries(len(few)):
        response = reader.get(url)
    assert len(response.json()["results"]) >= 32
