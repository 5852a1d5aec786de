"""The pages ops staff use, at 1280 px, as a person checks them: nothing cut off, times in the
reader's zone with seconds, money as money, tables where tables are promised, no CSP error."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from calls.enums import CallStatus
from tests.admin.browser.conftest import assert_no_csp_violations, assert_nothing_cut_off, login, shot
from tests.admin.conftest import PASSWORD, make_user
from tests.conftest import load_fixture
from tests.factories import AssistantFactory, CallFactory, CampaignFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZONED = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (CST|CDT)")


@pytest.fixture
def calls():
    report = load_fixture("end-of-call-report.json")["message"]
    assistant = AssistantFactory(name="Northwind Dental front desk, late")
    campaign = CampaignFactory(name="Spring recall — hygiene patients", assistant=assistant)
    made = []
    for i, (name, outcome) in enumerate(
        [("Dana Whitfield", "completed"), ("Bartholomew Okonkwo-Smith", "busy")]
    ):
        customer = CustomerFactory(name=name, number=f"+1202555014{i}")
        started = timezone.now() - dt.timedelta(minutes=10 + i)
        made.append(
            CallFactory(
                status=CallStatus.ENDED,
                outcome=outcome,
                started_at=started,
                ended_at=started + dt.timedelta(seconds=95),
                duration_seconds=95,
                cost=Decimal("0.2398"),
                assistant=assistant,
                campaign=campaign,
                customer=customer,
                customer_number=str(customer.number),
                summary=report["analysis"]["summary"],
                structured_data=report["analysis"]["structuredData"],
                structured_outputs={"id-1": {"name": "appointment_booked", "result": False}},
                performance_metrics=report["artifact"]["performanceMetrics"],
                success_evaluation="true",
            )
        )
    return made


def test_manager_in_chicago_reads_calls_and_a_call(page, live_server, calls):
    make_user("ops-manager", group="Ops manager")
    login(page, live_server, "ops-manager", PASSWORD)
    # Each person picks the zone the console shows times in.
    page.click("#display-zone")
    page.select_option("#id_time_zone", "America/Chicago")
    page.click("#preferences-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    assert "america/chicago" in page.locator("#display-zone").inner_text().lower()

    page.goto(f"{live_server.url}/admin/calls/call/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    first = rows.filter(has_text="Dana Whitfield").inner_text()
    assert "+12025550140" in first
    assert "$0.24" in first and "1:35" in first and "Northwind Dental front desk, late" in first
    assert ZONED.search(first), first  # seconds and the zone's name
    assert first.startswith(calls[0].vapi_id[:8])
    assert_nothing_cut_off(page)
    shot(page, "calls-list-1280")
    assert_no_csp_violations(page)

    page.click(f"text={calls[0].vapi_id[:8]}")
    page.wait_for_selector("#analysis")
    # Tables, labelled, no raw JSON.
    assert page.locator("#structured-data th").count() == 3
    assert page.locator("#structured-outputs").inner_text().strip().startswith("Appointment booked")
    analysis = page.locator("#analysis").inner_text()
    assert "{" not in analysis and "Successful" in analysis
    assert "Turn latency (avg)" in page.locator("#performance-metrics").inner_text()
    assert ZONED.search(page.locator("#content-main fieldset").first.inner_text())
    assert page.locator("input[value=Delete], a.deletelink").count() == 0
    assert_nothing_cut_off(page)
    shot(page, "call-page-1280")
    assert_no_csp_violations(page)


def test_customers_show_do_not_call_and_consent_as_states(page, live_server):
    now = timezone.now()
    CustomerFactory(
        name="Ivy Lee", do_not_call=True, do_not_call_source="tool", do_not_call_at=now, consent=False
    )
    CustomerFactory(name="Sam Ortiz", consent=True, consent_source="import", consent_at=now)
    make_user("ops-viewer", group="Ops viewer")
    login(page, live_server, "ops-viewer", PASSWORD)
    page.goto(f"{live_server.url}/admin/calls/customer/")
    ivy = page.locator("#result_list tbody tr", has_text="Ivy Lee").inner_text()
    sam = page.locator("#result_list tbody tr", has_text="Sam Ortiz").inner_text()
    assert "Do not call" in ivy and "tool" in ivy and "UTC" in ivy and "Not recorded" in ivy
    assert "May call" in sam and "Given" in sam and "import" in sam
    assert page.locator("#result_list img[alt=True], #result_list img[alt=False]").count() == 0
    assert_nothing_cut_off(page)
    shot(page, "customers-1280")
    assert_no_csp_violations(page)


def test_index_puts_ops_first_and_plumbing_under_system(page, live_server):
    make_user("root", superuser=True)
    login(page, live_server, "root", PASSWORD)
    captions = [c.strip().lower() for c in page.locator("#content-main .module caption").all_inner_texts()]
    sections = [c for c in captions if c != "ops dashboard"]
    assert sections[0] == "calls and campaigns" and sections[-1] == "system", captions
    system = page.locator("#content-main .app-system").inner_text()
    assert "Periodic tasks" in system and "Idempotency records" in system and "Access attempts" in system
    calls_section = page.locator("#content-main .module", has_text="Calls and campaigns").first.inner_text()
    assert "Outbound switches" in calls_section and "switchs" not in page.content()
    assert "Periodic tasks" not in calls_section
    assert_nothing_cut_off(page)
    shot(page, "index-1280")
    assert_no_csp_violations(page)


def test_assistant_page_keeps_the_pushed_payload_in_a_scroll_box(page, live_server):
    payload = {
        "model": {"messages": [{"role": "system", "content": "line\n" * 400}]},
        "tools": list(range(300)),
    }
    assistant = AssistantFactory(name="Front desk", pushed_payload=payload, push_state="in-sync")
    make_user("root", superuser=True)
    login(page, live_server, "root", PASSWORD)
    page.goto(f"{live_server.url}/admin/assistants/assistant/{assistant.pk}/change/")
    page.wait_for_selector("#content-main")
    box = page.locator("pre.vo-pre")
    assert box.count() == 1
    assert box.evaluate("el => getComputedStyle(el).overflowY") == "auto"
    assert box.evaluate("el => el.clientHeight < el.scrollHeight")  # scrolls inside, not the page
    badge = page.locator("b.vo-state").first
    assert badge.evaluate("el => getComputedStyle(el).color") != "rgb(51, 51, 51)"  # coloured
    assert page.evaluate("document.documentElement.scrollHeight") < 6000
    shot(page, "assistant-page-1280")
    assert_no_csp_violations(page)
