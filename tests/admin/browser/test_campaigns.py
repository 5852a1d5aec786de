"""Campaign control in a real browser: upload recipients (with a rejected row), start, pause."""

from __future__ import annotations

import pytest

from calls.models import Campaign, OutboundSwitch
from tests.admin.browser.conftest import assert_no_csp_violations, assert_nothing_cut_off, login, shot
from tests.admin.conftest import PASSWORD, make_user
from tests.factories import AssistantFactory, CampaignFactory, CustomerFactory, PhoneNumberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = b"number,name\n+12025550142,Dana Whitfield\nnot-a-number,Bob\n+12025550143,Eve Marsh\n"
# Eve is already a customer (as "E. Marsh"): the import will update her name, and says so first.


@pytest.fixture
def campaign():
    # The global kill switch is on, so starting the campaign dials nobody (no network in tests);
    # start/pause are still real state changes through the campaign services.
    OutboundSwitch.objects.update_or_create(pk=1, defaults={"paused": True, "changed_by": "test"})
    assistant = AssistantFactory(vapi_id="asst-browser-test")
    return CampaignFactory(
        name="Spring recall", assistant=assistant, phone_number=PhoneNumberFactory(assistant=assistant)
    )


def test_upload_recipients_start_and_pause(page, live_server, campaign):
    eve = CustomerFactory(number="+12025550143", name="E. Marsh", consent=False)
    make_user("ops-manager", group="Ops manager")
    login(page, live_server, "ops-manager", PASSWORD)
    page.goto(f"{live_server.url}/admin/calls/campaign/")
    page.click("text=Spring recall")
    page.wait_for_selector("#campaign-control")

    # Upload: the preview lists the bad row with its reason and saves nothing yet.
    page.click("text=Upload recipients")
    page.set_input_files(
        "input[type=file]", files=[{"name": "recipients.csv", "mimeType": "text/csv", "buffer": CSV}]
    )
    page.click("input[type=submit][value=Preview]")
    rejected = page.locator("#rejected-rows")
    rejected.wait_for()
    assert "not-a-number" in rejected.inner_text() and "Invalid number" in rejected.inner_text()
    assert page.locator("#accepted-rows tbody tr").count() == 2
    assert "1 known customer will be updated" in page.locator("#customer-updates").inner_text()
    assert "Known; will set name to Eve Marsh" in page.locator("#accepted-rows").inner_text()
    assert campaign.recipients.count() == 0
    shot(page, "campaign-upload-preview")
    # Confirming hands the rows to a background worker; the page shows its progress bar.
    page.click("input[type=submit][value^='Confirm']")
    page.wait_for_selector("#recipient-import")
    page.wait_for_function("document.getElementById('import-progress').value === 100")
    assert "Done" in page.locator("#import-state").inner_text()
    assert "2 recipients added" in page.locator("#import-state").inner_text()
    assert "1 known customer updated" in page.locator("#import-state").inner_text()
    eve.refresh_from_db()
    assert eve.name == "Eve Marsh" and eve.consent is False
    assert "Invalid number" in page.locator("#rejected-rows").inner_text()
    shot(page, "campaign-import-done")
    assert_no_csp_violations(page)
    assert campaign.recipients.count() == 2
    page.click("text=Back to the campaign")
    page.wait_for_selector("#campaign-control")

    # Start, then pause.
    page.click("#campaign-control input[value=Start]")
    page.wait_for_selector(".messagelist")
    assert "running" in page.locator(".messagelist").inner_text().lower()
    assert Campaign.objects.get(pk=campaign.pk).state == "running"
    page.click("#campaign-control input[value=Pause]")
    page.wait_for_selector("#campaign-control input[value=Resume]")
    assert "paused" in page.locator(".messagelist").inner_text().lower()
    assert Campaign.objects.get(pk=campaign.pk).state == "paused"
    # The control room says who did what and when, in the reader's zone.
    activity = page.locator("#campaign-activity").inner_text()
    assert "ops-manager" in activity and "Paused" in activity and "Running" in activity
    assert "UTC" in activity and "unknown" not in activity
    # Recipients are listed with filters; the retry policy is a form, not JSON.
    assert page.locator("#campaign-recipients tbody tr").count() == 2
    assert page.locator("input[name=retry_busy]").is_visible()
    assert page.locator("textarea[name=retry_policy]").count() == 0
    # Per outcome, at most N attempts: a bad value is a form error, a good one shows in the room.
    page.fill("input[name=retry_busy_max]", "0")
    page.click("input[name=_continue]")
    page.wait_for_selector(".errornote")
    assert (
        "greater than or equal to 1"
        in page.locator(".field-retry_busy_max, .form-row:has(#id_retry_busy_max)").first.inner_text()
    )
    assert_nothing_cut_off(page)
    page.fill("input[name=retry_busy_max]", "2")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")
    policy = page.locator("#retry-policy").inner_text()
    assert "Busy\tYes\t30 min\t2 attempts ending this way" in policy
    assert Campaign.objects.get(pk=campaign.pk).retry_policy["busy"]["max_attempts"] == 2
    # The global switch sits in its own box, apart from this campaign's buttons.
    assert page.locator("#campaign-control input[value='Pause ALL outbound']").count() == 0
    assert page.locator("#outbound-switch").inner_text().startswith("ALL OUTBOUND CALLING") or (
        "All outbound calling" in page.locator("#outbound-switch").inner_text()
    )
    assert_nothing_cut_off(page)
    shot(page, "campaign-paused")
    assert_no_csp_violations(page)

    # Cancelling asks first (a static script, so it works under the CSP): dismissing keeps it.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#campaign-control input[value='Cancel campaign']")
    page.wait_for_timeout(300)
    assert Campaign.objects.get(pk=campaign.pk).state == "paused"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#campaign-control input[value='Cancel campaign']")
    page.wait_for_selector("#campaign-control:not(:has(input[value=Resume]))")
    assert Campaign.objects.get(pk=campaign.pk).state == "cancelled"
    assert_no_csp_violations(page)


def test_viewer_sees_no_campaign_controls(page, live_server, campaign):
    make_user("ops-viewer", group="Ops viewer")
    login(page, live_server, "ops-viewer", PASSWORD)
    page.goto(f"{live_server.url}/admin/calls/campaign/{campaign.pk}/change/")
    page.wait_for_selector("#content-main")
    starts = page.locator("#campaign-control input[value=Start]")
    if starts.count():
        # A button may render, but the action itself must be refused and change nothing.
        starts.first.click()
        page.wait_for_load_state()
        assert Campaign.objects.get(pk=campaign.pk).state == "draft"
    shot(page, "campaign-viewer")


def test_campaign_list_shows_the_org_outbound_budget(page, live_server, campaign, settings):
    settings.VAPI_CONCURRENCY_LIMIT = 10
    settings.OUTBOUND_INBOUND_RESERVE = 2
    make_user("ops-viewer", group="Ops manager")
    login(page, live_server, "ops-viewer", PASSWORD)
    page.goto(f"{live_server.url}/admin/calls/campaign/")
    budget = page.locator("#org-budget")
    budget.wait_for()
    text = budget.inner_text()
    assert (
        "0 of 8 slots in use" in text and "Vapi concurrency 10" in text and "2 kept free for inbound" in text
    )
    shot(page, "campaign-list-org-budget")
    assert_no_csp_violations(page)
