"""factory_boy factories for every model. Numbers use the fictional 555-01xx range."""

from __future__ import annotations

import datetime as dt
import uuid

import factory
from django.utils import timezone

from assistants.models import Assistant, PhoneNumber
from calls.enums import CallStatus, Direction
from calls.models import Call, Campaign, CampaignRecipient, Customer, TranscriptTurn, WebhookEvent
from tools.models import Appointment, Resource, Tool, ToolInvocation


def _number(n: int) -> str:
    """+1 555 01xx style numbers; beyond 100 they continue in other fictional exchanges."""
    return f"+1202555{n % 10000:04d}"


class AssistantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assistant

    name = factory.Sequence(lambda n: f"Assistant {n}")
    first_message = "Hi, this is Riley from Example Dental. How can I help?"
    system_prompt = "You are Riley, a friendly scheduling assistant for Example Dental."


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    number = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")
    name = factory.Sequence(lambda n: f"Line {n}")
    vapi_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    assistant = factory.SubFactory(AssistantFactory)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    number = factory.Sequence(_number)
    name = factory.Faker("name")
    email = factory.Faker("email")
    time_zone = "America/New_York"


class ToolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tool
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tool_{n}")
    description = "A tool."


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    assistant = factory.SubFactory(AssistantFactory)
    phone_number = factory.SubFactory(PhoneNumberFactory)


class CampaignRecipientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignRecipient

    campaign = factory.SubFactory(CampaignFactory)
    customer = factory.SubFactory(CustomerFactory)
    number = factory.SelfAttribute("customer.number")
    name = factory.SelfAttribute("customer.name")
    time_zone = factory.SelfAttribute("customer.time_zone")


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    vapi_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    direction = Direction.OUTBOUND
    status = CallStatus.QUEUED
    assistant = factory.SubFactory(AssistantFactory)
    customer = factory.SubFactory(CustomerFactory)
    customer_number = factory.LazyAttribute(lambda o: str(o.customer.number) if o.customer else "")


class TranscriptTurnFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TranscriptTurn

    call = factory.SubFactory(CallFactory)
    position = factory.Sequence(lambda n: n)
    role = "user"
    text = "I'd like to book a cleaning."
    seconds_from_start = factory.Sequence(lambda n: float(n * 3))


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    message_type = "status-update"
    vapi_call_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    body = '{"message": {"type": "status-update", "status": "ringing"}}'
    dedupe_key = factory.Sequence(lambda n: f"test-dedupe-{n}")


class ToolInvocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ToolInvocation

    tool_call_id = factory.Sequence(lambda n: f"call_test_{n}")
    name = "get_customer_info"
    arguments = factory.LazyFunction(dict)


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    name = factory.Sequence(lambda n: f"Dr. Resource {n}")
    time_zone = "America/New_York"
    slot_minutes = 30


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    resource = factory.SubFactory(ResourceFactory)
    customer = factory.SubFactory(CustomerFactory)
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    )
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=30))
    confirmation_code = factory.Sequence(lambda n: f"C{n:06d}")


# --- admin login protection (django-axes) and the API's keys: registered in the admin -------
from axes.models import AccessAttempt, AccessFailureLog, AccessLog  # noqa: E402

from voiceops.api.models import ApiKey, IdempotencyRecord  # noqa: E402


class _AxesAccessFactory(factory.django.DjangoModelFactory):
    user_agent = "Mozilla/5.0"
    ip_address = "192.0.2.10"
    username = factory.Sequence(lambda n: f"ops{n}")
    http_accept = "text/html"
    path_info = "/admin/login/"


class AccessAttemptFactory(_AxesAccessFactory):
    class Meta:
        model = AccessAttempt

    get_data = ""
    post_data = "username=ops"
    failures_since_start = 1


class AccessLogFactory(_AxesAccessFactory):
    class Meta:
        model = AccessLog


class AccessFailureLogFactory(_AxesAccessFactory):
    class Meta:
        model = AccessFailureLog


class ApiKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiKey

    name = factory.Sequence(lambda n: f"service-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        api_key, _key = model_class.objects.create_key(**kwargs)
        return api_key


class IdempotencyRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdempotencyRecord

    api_key = factory.SubFactory(ApiKeyFactory)
    key = factory.Sequence(lambda n: f"idem-{n}")
    request_hash = "0" * 64
    locked_at = factory.LazyFunction(timezone.now)


class DialAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "calls.DialAttempt"

    idempotency_key = factory.Sequence(lambda n: f"test-attempt-{n}")
    customer = factory.SubFactory(CustomerFactory)
    number = factory.LazyAttribute(lambda o: str(o.customer.number))


class DispatchDecisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "calls.DispatchDecision"

    at = factory.LazyFunction(timezone.now)
    customer = factory.SubFactory(CustomerFactory)
    rule = "calling-window"
    allowed = False
    detail = "Local time 07:59 in America/Los_Angeles is outside 08:00-21:00."


class OutboundSwitchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "calls.OutboundSwitch"
        django_get_or_create = ("id",)

    id = 1
    paused = False
