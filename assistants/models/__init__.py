"""Assistants configured as data, and the phone numbers that route to them.

Django finds an app's models here; importers use ``from assistants.models import ...``.
"""

from assistants.models.assistant import (
    Assistant,
    DriftState,
    PushState,
    TransferDestination,
    TransferKind,
    WebhookCredential,
    default_server_messages,
)
from assistants.models.phone_numbers import NumberMode, PhoneNumber, VapiRoute, default_opening_hours
from assistants.models.routing import (
    DEFAULT_REFUSAL,
    Closure,
    RoutingDecision,
    RoutingRule,
    RuleAction,
    RuleCaller,
    RuleWhen,
)

__all__ = [
    "DEFAULT_REFUSAL",
    "Assistant",
    "Closure",
    "DriftState",
    "NumberMode",
    "PhoneNumber",
    "PushState",
    "RoutingDecision",
    "RoutingRule",
    "RuleAction",
    "RuleCaller",
    "RuleWhen",
    "TransferDestination",
    "TransferKind",
    "VapiRoute",
    "WebhookCredential",
    "default_opening_hours",
    "default_server_messages",
]
