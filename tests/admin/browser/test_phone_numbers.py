"""The phone-number page in a real browser: mode and Vapi's state, routing rules edited inline."""

from __future__ import annotations

import pytest

from assistants.models import NumberMode, RoutingRule, VapiRoute
from tests.admin.browser.conftest import assert_no_csp_violations, login, shot
from tests.admin.conftest import PASSWORD, make_user
from tests.factories import AssistantFactory, PhoneNumberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_routing_rules_are_edited_inline_and_bad_numbers_are_form_errors(page, live_server) -> None:
    make_user("manager", group="Ops manager")
    desk = AssistantFactory(name="Front desk", vapi_id="11111111-1111-4111-8111-111111111111")
    number = PhoneNumberFactory(
        mode=NumberMode.ROUTED, assistant=desk, vapi_mode=VapiRoute.FIXED, vapi_assistant_id=desk.vapi_id
    )
    RoutingRule.objects.create(
        phone_number=number, position=1, name="Known callers", caller="known", assistant=desk
    )
    login(page, live_server, "manager", PASSWORD)
    page.goto(f"{live_server.url}/admin/assistants/phonenumber/{number.pk}/change/")
    assert "Differs." in page.inner_text("body")  # Vapi binds an assistant, we want routed
    page.click("text=Add another Routing rule (routed mode; first match wins)")
    row = "#routing_rules-1"
    page.fill(f"{row} input[name$='-name']", "Blocked")
    page.fill(f"{row} input[name$='-position']", "0")
    page.fill(f"{row} textarea[name$='-caller_numbers'], {row} input[name$='-caller_numbers']", '["0900"]')
    page.select_option(f"{row} select[name$='-action']", "refuse")
    page.click("input[name=_continue]")
    page.wait_for_selector(".errorlist")
    assert "is not a number or prefix in E.164 form" in page.inner_text("body")
    page.fill(f"{row} textarea[name$='-caller_numbers'], {row} input[name$='-caller_numbers']", '["+1900"]')
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")
    shot(page, "phone-number-routing")
    assert [r.name for r in RoutingRule.objects.filter(phone_number=number).order_by("position")] == [
        "Blocked",
        "Known callers",
    ]
    assert_no_csp_violations(page)
