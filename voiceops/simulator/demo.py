"""The demo data set and the steps that set it in motion (``make demo``).

``demo_seed`` writes the rows directly and is idempotent: an assistant with the built-in
tools, the simulator's phone number, a bookable resource, 20 customers and a campaign.
``demo_start`` then uses the real services — assistant push (to the simulator, through
the Vapi client) and campaign start — so the demo exercises exactly what production runs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from assistants.models import (
    Assistant,
    NumberMode,
    PhoneNumber,
    RoutingRule,
    RuleAction,
    RuleCaller,
    RuleWhen,
)
from assistants.routing.hours import WEEKDAYS
from calls.enums import CampaignState
from calls.models import Call, Campaign, CampaignRecipient, Customer, TranscriptTurn
from tools.models import Appointment, Resource, Tool, ToolInvocation
from voiceops.simulator.store import phone_number_id_for

log = structlog.get_logger(__name__)

DEMO_NUMBER = "+12125550100"
DEMO_BLOCKED_CALLER = "+14155550666"
DEMO_KNOWN_CALLER = "+12125550101"  # the first demo customer
DEMO_ASSISTANT = "Northwind Clinic front desk"
DEMO_CAMPAIGN = "Demo: book a check-up"
DEMO_RESOURCE = "Dr. Rivera"
DEMO_TOOLS = {
    "get_customer_info": "Look up the caller's account.",
    "check_availability": "Free appointment times of a resource.",
    "book_appointment": "Book an appointment.",
    "cancel_appointment": "Cancel an appointment by confirmation code.",
    "reschedule_appointment": "Move an appointment to a new time.",
    "opt_out": "Put the caller on the do-not-call list.",
}
FIRST_NAMES = [
    "Ava",
    "Ben",
    "Chloe",
    "Diego",
    "Emma",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
]
LAST_NAMES = [
    "Adams",
    "Brooks",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Meyer",
    "Novak",
    "Okafor",
    "Patel",
    "Quinlan",
    "Rossi",
    "Suzuki",
    "Turner",
]
ALL_DAY = [["08:00", "18:00"]]


@dataclass
class DemoData:
    assistant: Assistant
    phone_number: PhoneNumber
    resource: Resource
    campaign: Campaign
    customers: int


def _sync_tools() -> None:
    """The registry's Tool rows (``tools_sync``), when the registry exists."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command("tools_sync", verbosity=0)
    except CommandError:  # tools_sync arrives with the tools branch
        log.info("demo.tools_sync.unavailable")


def _tools() -> list[Tool]:
    return [
        Tool.objects.get_or_create(name=name, defaults={"description": text})[0]
        for name, text in DEMO_TOOLS.items()
    ]


def demo_seed() -> DemoData:
    """Create (or find) the demo rows. Safe to run on every ``make demo``."""
    _sync_tools()
    return _seed()


@transaction.atomic
def _seed() -> DemoData:
    assistant, _ = Assistant.objects.get_or_create(
        name=DEMO_ASSISTANT,
        defaults={
            "first_message": "Hi {{customerName}}, this is Riley from Northwind Clinic. "
            "I'm calling to help you book your next check-up.",
            "system_prompt": "You are Riley, the front-desk assistant of Northwind Clinic. Help callers "
            "book, move or cancel appointments with Dr. Rivera, answer account questions with the "
            "tools, and honour any request to stop calling at once.",
            "end_call_message": "Thanks for your time. Goodbye!",
            "end_call_phrases": ["goodbye", "bye"],
            "voicemail_message": "Hi, this is Riley from Northwind Clinic. Please call us back to book your "
            "check-up.",
            "summary_prompt": "Summarise the call in two sentences.",
            "success_rubric": "PassFail",
            "server_messages": [
                "status-update",
                "end-of-call-report",
                "tool-calls",
                "conversation-update",
                'transcript[transcriptType="final"]',
                "hang",
            ],
        },
    )
    assistant.tools.add(*_tools())
    phone_number, created = PhoneNumber.objects.get_or_create(
        number=DEMO_NUMBER,
        defaults={
            "name": "Demo line (simulator)",
            "vapi_id": phone_number_id_for(DEMO_NUMBER),
            "provider": "vapi",
            "mode": NumberMode.ROUTED,
            "assistant": assistant,
            "opening_hours": {day: [["00:00", "24:00"]] for day in WEEKDAYS},
        },
    )
    if created or not phone_number.routing_rules.exists():
        # A routed number: the simulator sends assistant-request (the number is unbound there, as
        # demo_start makes sure) and voiceops answers by these rules.
        RoutingRule.objects.create(
            phone_number=phone_number,
            position=1,
            name="Blocked caller",
            caller_numbers=[DEMO_BLOCKED_CALLER],
            action=RuleAction.REFUSE,
            refusal_message="Sorry, this line cannot take your call. Goodbye.",
        )
        RoutingRule.objects.create(
            phone_number=phone_number,
            position=2,
            name="Known customers in opening hours",
            when=RuleWhen.OPEN,
            caller=RuleCaller.KNOWN,
            assistant=assistant,
        )
    resource, _ = Resource.objects.get_or_create(
        name=DEMO_RESOURCE,
        defaults={
            "kind": Resource.Kind.PERSON,
            "time_zone": "UTC",
            "slot_minutes": 30,
            "working_hours": {day: ALL_DAY for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        },
    )
    # Each `make demo` gets a campaign to start: the draft one, or a new run after an earlier demo.
    campaign = Campaign.objects.filter(name__startswith=DEMO_CAMPAIGN, state=CampaignState.DRAFT).first()
    if campaign is None:
        earlier = Campaign.objects.filter(name__startswith=DEMO_CAMPAIGN).exists()
        campaign = Campaign.objects.create(
            name=f"{DEMO_CAMPAIGN} ({timezone.now():%Y-%m-%d %H:%M})" if earlier else DEMO_CAMPAIGN,
            assistant=assistant,
            phone_number=phone_number,
            max_concurrent_calls=4,
            max_calls_per_minute=60,
            window_start=dt.time(0, 0),
            window_end=dt.time(23, 59, 59),
            max_attempts=2,
        )
    for index, (first, last) in enumerate(zip(FIRST_NAMES, LAST_NAMES, strict=True), start=1):
        customer, _ = Customer.objects.get_or_create(
            number=f"+121255501{index:02d}",
            defaults={"name": f"{first} {last}", "time_zone": "UTC", "email": f"{first.lower()}@example.com"},
        )
        CampaignRecipient.objects.get_or_create(
            campaign=campaign,
            customer=customer,
            defaults={
                "number": customer.number,
                "name": customer.name,
                "time_zone": "UTC",
                "variables": {
                    "customerName": first,
                    "resource": DEMO_RESOURCE,
                    "customerId": str(customer.pk),
                },
            },
        )
    return DemoData(
        assistant=assistant,
        phone_number=phone_number,
        resource=resource,
        campaign=campaign,
        customers=campaign.recipients.count(),
    )


def demo_push_assistant(*, assistant: Assistant) -> None:
    """Push through the assistants service (the worker creates it in the simulator)."""
    from assistants.services import assistant_request_push

    assistant_request_push(assistant=assistant)


def demo_route_number(*, phone_number: PhoneNumber) -> PhoneNumber:
    """Make the demo number routed in the simulator too (PATCH: no assistant, our server URL)."""
    from assistants.services.phone_numbers import phone_number_set_mode

    return phone_number_set_mode(
        phone_number=phone_number, mode=NumberMode.ROUTED, assistant=phone_number.assistant
    )


def demo_start_campaign(*, campaign: Campaign) -> Campaign:
    from calls.campaigns.services.control import campaign_start

    return campaign_start(campaign=campaign)


def demo_progress(*, campaign: Campaign) -> dict[str, Any]:
    """What the admin shows, in one line: calls by status, transcripts, tools, bookings, recipients."""
    calls = dict(Call.objects.values_list("status").annotate(n=Count("id")).order_by())
    recipients = dict(campaign.recipients.values_list("state").annotate(n=Count("id")).order_by())
    return {
        "calls": calls,
        "transcript_turns": TranscriptTurn.objects.count(),
        "tool_invocations": ToolInvocation.objects.count(),
        "appointments": Appointment.objects.count(),
        "do_not_call": Customer.objects.filter(do_not_call=True).count(),
        "recipients": recipients,
    }


def demo_admin_url() -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/admin/"
