"""Every endpoint refuses a missing key (401) and a key without its scope (403), JSON-shaped.

One row per operation: the scope it needs. A key holding every OTHER scope must get 403
``insufficient_scope`` (so no scope leaks into another), and no key at all 401.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import assert_error, make_key
from tests.factories import (
    AppointmentFactory,
    AssistantFactory,
    CallFactory,
    CampaignFactory,
    CustomerFactory,
    PhoneNumberFactory,
    ResourceFactory,
    ToolFactory,
    WebhookEventFactory,
)
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db

R, A, CU, CA, CL, AP, AD = (
    Scope.READ,
    Scope.ASSISTANTS_WRITE,
    Scope.CUSTOMERS_WRITE,
    Scope.CAMPAIGNS_WRITE,
    Scope.CALLS_WRITE,
    Scope.APPOINTMENTS_WRITE,
    Scope.ADMIN,
)

# (method, url template, scope); {x} placeholders are filled from the objects fixture.
OPERATIONS = [
    ("get", "/api/v1/assistants/", R),
    ("get", "/api/v1/assistants/{assistant}/", R),
    ("post", "/api/v1/assistants/", A),
    ("patch", "/api/v1/assistants/{assistant}/", A),
    ("delete", "/api/v1/assistants/{assistant}/", A),
    ("get", "/api/v1/phone-numbers/", R),
    ("get", "/api/v1/phone-numbers/{phone_number}/", R),
    ("get", "/api/v1/tools/", R),
    ("get", "/api/v1/tools/{tool}/", R),
    ("post", "/api/v1/tools/{tool}/enable/", A),
    ("post", "/api/v1/tools/{tool}/disable/", A),
    ("get", "/api/v1/resources/", R),
    ("get", "/api/v1/customers/", R),
    ("get", "/api/v1/customers/{customer}/", R),
    ("post", "/api/v1/customers/", CU),
    ("patch", "/api/v1/customers/{customer}/", CU),
    ("delete", "/api/v1/customers/{customer}/", CU),
    ("post", "/api/v1/customers/{customer}/do-not-call/", CU),
    ("get", "/api/v1/calls/", R),
    ("get", "/api/v1/calls/{call}/", R),
    ("get", "/api/v1/campaigns/", R),
    ("get", "/api/v1/campaigns/{campaign}/", R),
    ("post", "/api/v1/campaigns/", CA),
    ("patch", "/api/v1/campaigns/{campaign}/", CA),
    ("delete", "/api/v1/campaigns/{campaign}/", CA),
    ("get", "/api/v1/campaigns/{campaign}/recipients/", R),
    ("get", "/api/v1/appointments/", R),
    ("get", "/api/v1/appointments/{appointment}/", R),
    ("get", "/api/v1/webhook-events/", R),
    ("get", "/api/v1/webhook-events/{event}/", R),
    ("post", "/api/v1/webhook-events/{event}/replay/", AD),
    ("post", "/api/v1/calls/", CL),
    ("post", "/api/v1/assistants/{assistant}/push/", A),
    ("post", "/api/v1/phone-numbers/{phone_number}/bind/", A),
    ("post", "/api/v1/phone-numbers/{phone_number}/mode/", A),
    ("post", "/api/v1/phone-numbers/{phone_number}/check/", A),
    ("patch", "/api/v1/phone-numbers/{phone_number}/", A),
    ("get", "/api/v1/routing-rules/", R),
    ("get", "/api/v1/routing-rules/{rule}/", R),
    ("post", "/api/v1/routing-rules/", A),
    ("patch", "/api/v1/routing-rules/{rule}/", A),
    ("delete", "/api/v1/routing-rules/{rule}/", A),
    ("get", "/api/v1/closures/", R),
    ("post", "/api/v1/closures/", A),
    ("post", "/api/v1/campaigns/{campaign}/start/", CA),
    ("post", "/api/v1/campaigns/{campaign}/pause/", CA),
    ("post", "/api/v1/campaigns/{campaign}/resume/", CA),
    ("post", "/api/v1/campaigns/{campaign}/cancel/", CA),
    ("get", "/api/v1/campaigns/{campaign}/progress/", R),
    ("post", "/api/v1/campaigns/{campaign}/recipients/upload/", CA),
    ("post", "/api/v1/appointments/", AP),
    ("post", "/api/v1/appointments/{appointment}/cancel/", AP),
    ("post", "/api/v1/appointments/{appointment}/reschedule/", AP),
]


@pytest.fixture
def objects():
    from assistants.models import RoutingRule

    assistant = AssistantFactory()
    phone_number = PhoneNumberFactory()
    return {
        "assistant": assistant.pk,
        "phone_number": phone_number.pk,
        "rule": RoutingRule.objects.create(phone_number=phone_number, name="r", assistant=assistant).pk,
        "tool": ToolFactory().pk,
        "customer": CustomerFactory().pk,
        "call": CallFactory().pk,
        "campaign": CampaignFactory().pk,
        "appointment": AppointmentFactory(resource=ResourceFactory()).pk,
        "event": WebhookEventFactory().pk,
    }


def _ids(op):
    return f"{op[0].upper()} {op[1]}"


@pytest.mark.parametrize("method,url,scope", OPERATIONS, ids=[_ids(o) for o in OPERATIONS])
def test_without_key_is_401(method, url, scope, objects):
    response = getattr(APIClient(), method)(url.format(**objects), {}, format="json")
    assert_error(response, 401, "not_authenticated")


@pytest.mark.parametrize("method,url,scope", OPERATIONS, ids=[_ids(o) for o in OPERATIONS])
def test_every_other_scope_is_403(method, url, scope, objects):
    others = [s for s in Scope.values if s not in (scope, Scope.ADMIN)]
    _, key = make_key(*others)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    error = assert_error(getattr(client, method)(url.format(**objects), {}, format="json"), 403)
    assert error["code"] == "insufficient_scope"
    assert f"'{scope}'" in error["message"]


@pytest.mark.parametrize("method,url,scope", OPERATIONS, ids=[_ids(o) for o in OPERATIONS])
def test_the_scope_itself_gets_past_authorization(method, url, scope, objects):
    _, key = make_key(scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    response = getattr(client, method)(url.format(**objects), {}, format="json")
    assert response.status_code not in (401, 403), response.json()
