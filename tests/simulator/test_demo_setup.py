"""``demo_setup`` seeds the demo data set once, however often ``make demo`` runs."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from assistants.models import Assistant, PhoneNumber
from calls.enums import CampaignState
from calls.models import Campaign, CampaignRecipient, Customer
from tools.models import Resource
from voiceops.simulator.demo import DEMO_NUMBER, demo_progress
from voiceops.simulator.runner import running_simulator
from voiceops.simulator.store import phone_number_id_for


@pytest.mark.django_db
def test_demo_setup_seeds_everything_once() -> None:
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    call_command("demo_setup", stdout=out)
    assert "with 20 customers" in out.getvalue()
    assert get_user_model().objects.get(username="admin").check_password("voiceops-demo")
    assistant = Assistant.objects.get()
    assert {"book_appointment", "check_availability", "get_customer_info", "opt_out"} <= set(
        assistant.tools.values_list("name", flat=True)
    )
    phone = PhoneNumber.objects.get()
    assert (str(phone.number), phone.vapi_id) == (DEMO_NUMBER, phone_number_id_for(DEMO_NUMBER))
    resource = Resource.objects.get()
    assert all(resource.working_hours[day] for day in ("sat", "sun", "mon"))
    campaign = Campaign.objects.get()
    assert (campaign.assistant, campaign.phone_number) == (assistant, phone)
    assert (
        Customer.objects.count() == 20 and CampaignRecipient.objects.filter(campaign=campaign).count() == 20
    )
    recipient = CampaignRecipient.objects.filter(campaign=campaign).first()
    assert recipient.variables["resource"] == resource.name and recipient.variables["customerName"]
    progress = demo_progress(campaign=campaign)
    assert (
        progress["calls"] == {}
        and progress["appointments"] == 0
        and progress["recipients"] == {"pending": 20}
    )
    assert phone.assistant == assistant, "inbound assistant-request answers with the demo assistant"

    # A later `make demo` gets a fresh campaign to start; the started one is left alone.
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.COMPLETED)
    call_command("demo_setup", stdout=out)
    assert Campaign.objects.count() == 2
    fresh = Campaign.objects.exclude(pk=campaign.pk).get()
    assert fresh.state == CampaignState.DRAFT and fresh.recipients.count() == 20
    assert fresh.name.startswith("Demo: book a check-up (")


@pytest.mark.django_db(transaction=True)
def test_demo_setup_start_pushes_the_assistant_and_starts_the_campaign(live_server, settings) -> None:
    settings.PUBLIC_BASE_URL = live_server.url
    with running_simulator(play_calls=False) as sim:
        settings.VAPI_BASE_URL = sim.base_url
        out = io.StringIO()
        call_command("demo_setup", "--start", "--follow", "0", "--wait", "30", stdout=out)
        assistant = Assistant.objects.get()
        pushed = sim.store.get("assistants", assistant.vapi_id)
    text = out.getvalue()
    assert f"Assistant pushed to the simulator as {assistant.vapi_id}." in text
    assert "Campaign 'Demo: book a check-up' started: 20 customers to call." in text
    assert f"Admin:     {live_server.url}/admin/" in text and "Login:     admin / voiceops-demo" in text
    assert pushed["server"]["url"] == f"{live_server.url}/webhooks/vapi/"
    assert {t["function"]["name"] for t in pushed["model"]["tools"]} >= {"book_appointment", "opt_out"}
    assert Campaign.objects.get().state == CampaignState.RUNNING
