"""``demo_setup`` seeds the demo data set once, however often ``make demo`` runs."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from assistants.models import Assistant, PhoneNumber
from calls.models import Campaign, CampaignRecipient, Customer
from calls.services.demo import DEMO_NUMBER, demo_progress
from tools.models import Resource
from voiceops.vapi.simulator import phone_number_id_for


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
