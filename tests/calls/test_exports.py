"""CSV exports: the admin's filtered lists and the API's export endpoints give the same rows."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from calls.enums import RecipientState
from tests.admin.conftest import manager, manager_client, viewer, viewer_client  # noqa: F401
from tests.api.conftest import client_with  # noqa: F401
from tests.factories import (
    CallFactory,
    CampaignFactory,
    CampaignRecipientFactory,
    CustomerFactory,
    DispatchDecisionFactory,
)
from voiceops.api.scopes import Scope

pytestmark = pytest.mark.django_db


def rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_admin_call_export_applies_the_list_filters(viewer_client):  # noqa: F811
    dana = CustomerFactory(name="Dana Whitfield", number="+12025550142")
    CallFactory(outcome="completed", customer=dana, customer_number="+12025550142", cost=Decimal("0.2398"))
    CallFactory(outcome="busy")
    url = reverse("admin:calls_call_export")
    everything = rows(viewer_client.get(url))
    completed = rows(viewer_client.get(url, {"outcome__exact": "completed"}))
    assert len(everything) == 2 and len(completed) == 1
    assert completed[0]["customer_name"] == "Dana Whitfield" and completed[0]["cost_usd"] == "0.239800"
    # The list page links to the export with its own filters.
    page = viewer_client.get(reverse("admin:calls_call_changelist"), {"outcome__exact": "completed"})
    html = page.content.decode()
    assert 'id="export-csv"' in html and "export/?outcome__exact=completed" in html


def test_recipients_export_with_outcomes_admin_and_api(manager_client, client_with):  # noqa: F811
    campaign = CampaignFactory()
    CampaignRecipientFactory(
        campaign=campaign, state=RecipientState.DONE, last_outcome="completed", attempts=1
    )
    CampaignRecipientFactory(campaign=campaign, state=RecipientState.RETRY, last_outcome="busy", attempts=1)
    CampaignRecipientFactory()  # another campaign
    admin_rows = rows(
        manager_client.get(
            reverse("admin:calls_campaignrecipient_export"),
            {"campaign__id__exact": campaign.pk, "state__exact": "retry"},
        )
    )
    assert [(r["state"], r["last_outcome"]) for r in admin_rows] == [("retry", "busy")]
    api = client_with(Scope.READ)
    api_rows = rows(api.get(f"/api/v1/campaigns/{campaign.pk}/recipients/export/"))
    assert sorted(r["last_outcome"] for r in api_rows) == ["busy", "completed"]


def test_api_call_export_uses_the_list_filters(client_with):  # noqa: F811
    CallFactory(outcome="completed")
    CallFactory(outcome="busy")
    api = client_with(Scope.READ)
    assert [r["outcome"] for r in rows(api.get("/api/v1/calls/export/", {"outcome": "busy"}))] == ["busy"]
    assert api.get("/api/v1/calls/export/", {"outcome": "nonsense"}).status_code == 400


def test_dispatch_decisions_export_and_formula_cells_are_neutralised(viewer_client):  # noqa: F811
    DispatchDecisionFactory(detail='=HYPERLINK("http://evil")', allowed=False)
    DispatchDecisionFactory(allowed=True, rule="allowed", detail="ok")
    blocked = rows(viewer_client.get(reverse("admin:calls_dispatchdecision_export"), {"allowed__exact": "0"}))
    assert len(blocked) == 1 and blocked[0]["detail"].startswith("'=")


def test_api_dispatch_decisions_list_and_export(client_with):  # noqa: F811
    campaign = CampaignFactory()
    DispatchDecisionFactory(campaign=campaign, allowed=False, detail="outside window")
    DispatchDecisionFactory(allowed=True, rule="allowed", detail="ok")
    api = client_with(Scope.READ)
    listed = api.get("/api/v1/dispatch-decisions/", {"allowed": "false"}).json()["results"]
    assert [d["detail"] for d in listed] == ["outside window"]
    exported = rows(api.get("/api/v1/dispatch-decisions/export/", {"campaign": campaign.pk}))
    assert [(r["rule"], r["allowed"], r["campaign"]) for r in exported] == [
        ("calling-window", "no", campaign.name)
    ]
    assert api.get("/api/v1/dispatch-decisions/", {"rule": "nonsense"}).status_code == 400
