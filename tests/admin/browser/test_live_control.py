"""An ops manager ends a live simulator call from the call page, in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from calls.enums import CallStatus
from calls.models import Call
from tests.admin.browser.conftest import assert_no_csp_violations, login, shot
from tests.admin.conftest import PASSWORD, make_user
from tests.e2e.test_inbound_routing_e2e import simulator, wait_for  # noqa: F401 - fixtures
from tests.e2e.test_live_control_e2e import live_inbound
from voiceops.simulator.runner import Simulator

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_ops_manager_ends_a_live_call_from_the_call_page(
    simulator: Simulator,  # noqa: F811
    worker: None,  # noqa: F811
    live_server: Any,
    page: Any,
) -> None:
    make_user("manager", group="Ops manager")
    call = live_inbound(simulator, "+14155550132")
    login(page, live_server, "manager", PASSWORD)
    page.goto(f"{live_server.url}/admin/calls/call/{call.pk}/change/")
    page.wait_for_selector("#live-control")
    shot(page, "live-control-before")
    page.click("#control-end")
    page.wait_for_selector("text=End the call: sent to the live call.")
    assert simulator.wait_for_calls(timeout=30, call_ids=[call.vapi_id])
    wait_for(
        lambda: Call.objects.filter(pk=call.pk, status=CallStatus.ENDED).exists(), seconds=30, what="ended"
    )
    page.goto(f"{live_server.url}/admin/calls/call/{call.pk}/change/")
    text = page.inner_text("#live-control")
    assert "manager" in text and "End the call" in text and "The call is not live." in text
    shot(page, "live-control-after")
    assert simulator.store.get("calls", call.vapi_id)["endedReason"] == "assistant-ended-call"
    assert_no_csp_violations(page)
