"""CSV import: normalisation, inferred time zones, variables, and a report of every rejected row."""

from __future__ import annotations

import pytest
from django.utils import timezone

from calls.campaigns.services.recipients import recipients_import
from calls.enums import CampaignState
from calls.models import CampaignRecipient, Customer
from tests.calls.campaign_support import add_recipient, make_campaign
from tests.factories import CustomerFactory
from voiceops.errors import DomainError, InvalidState

pytestmark = pytest.mark.django_db

CSV = """number,name,timezone,orderNumber,customerName
(415) 555-0100,Dana Whitfield,,NW-1,Dana
+1 212 555 0101,Marcus Lee,America/Chicago,NW-2,Marcus
not-a-number,Bad Row,,NW-3,X
415-555-0100,Dana Again,,NW-4,Dana
2125550199,On DNC,,NW-5,Y
,Empty,,NW-6,Z
3125550102,Bad Zone,Mars/Olympus,NW-7,W
"""


def test_dry_run_reports_every_row_and_writes_nothing():
    campaign = make_campaign(state=CampaignState.DRAFT)
    CustomerFactory(number="+12125550199", do_not_call=True, do_not_call_at=timezone.now())
    report = recipients_import(campaign=campaign, csv_text=CSV, dry_run=True)
    assert report.dry_run and report.total_rows == 7
    assert [(r.number, r.name, r.time_zone, r.variables) for r in report.accepted] == [
        (
            "+14155550100",
            "Dana Whitfield",
            "America/Los_Angeles",
            {"orderNumber": "NW-1", "customerName": "Dana"},
        ),
        ("+12125550101", "Marcus Lee", "America/Chicago", {"orderNumber": "NW-2", "customerName": "Marcus"}),
    ]
    reasons = {r.line: r.reason for r in report.rejected}
    assert reasons[4].startswith("Invalid number")
    assert reasons[5] == "Duplicate: +14155550100 appears earlier in the file."
    assert reasons[6] == "On the do-not-call list."
    assert reasons[7] == "The number is empty."
    assert reasons[8].startswith("Unknown time zone 'Mars/Olympus'")
    assert not CampaignRecipient.objects.exists()
    assert Customer.objects.count() == 1


def test_confirm_writes_accepted_rows_and_upserts_customers_by_number():
    campaign = make_campaign(state=CampaignState.DRAFT)
    existing = CustomerFactory(number="+12125550101", name="M. Lee", time_zone="")
    report = recipients_import(campaign=campaign, csv_text=CSV, dry_run=False)
    assert (report.created_recipients, report.created_customers) == (3, 2)  # no DNC customer here
    existing.refresh_from_db()
    assert existing.name == "Marcus Lee" and existing.time_zone == "America/Chicago"
    recipient = CampaignRecipient.objects.get(campaign=campaign, customer=existing)
    assert str(recipient.number) == "+12125550101" and recipient.variables["orderNumber"] == "NW-2"
    # Importing the same file again: everything is now a duplicate, nothing new is written.
    again = recipients_import(campaign=campaign, csv_text=CSV, dry_run=False)
    assert again.created_recipients == 0
    assert any("already in this campaign" in r.reason for r in again.rejected)


def test_consent_required_rejects_customers_without_consent():
    campaign = make_campaign(state=CampaignState.DRAFT, requires_consent=True)
    CustomerFactory(number="+14155550100", consent=True, consent_at=timezone.now())
    report = recipients_import(
        campaign=campaign, csv_text="number\n+14155550100\n+14155550111\n", dry_run=True
    )
    assert [r.number for r in report.accepted] == ["+14155550100"]
    assert report.rejected[0].reason == "No consent recorded and the campaign requires it."


def test_default_region_semicolons_and_bom():
    campaign = make_campaign(state=CampaignState.DRAFT, default_region="GB")
    report = recipients_import(
        campaign=campaign, csv_text="\ufeffNumber;Name\n07911 123456;Ada\n", dry_run=True
    )
    assert [r.number for r in report.accepted] == ["+447911123456"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "csv_empty"),
        ("phone,name\n+14155550100,A\n", "csv_no_number_column"),
        ("number,Number\n1,2\n", "csv_duplicate_columns"),
    ],
)
def test_unusable_files_get_a_clear_error(text, code):
    campaign = make_campaign(state=CampaignState.DRAFT)
    with pytest.raises(DomainError) as exc:
        recipients_import(campaign=campaign, csv_text=text, dry_run=True)
    assert exc.value.code == code


def test_extra_cells_rejected_and_closed_campaign_refused():
    campaign = make_campaign(state=CampaignState.DRAFT)
    report = recipients_import(
        campaign=campaign, csv_text="number,name\n+14155550100,A,extra\n", dry_run=True
    )
    assert report.rejected[0].reason == "More cells than header columns."
    add_recipient(campaign)
    campaign.state = CampaignState.CANCELLED
    campaign.save()
    with pytest.raises(InvalidState):
        recipients_import(campaign=campaign, csv_text="number\n+14155550100\n", dry_run=True)
