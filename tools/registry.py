"""The tool registry: tools are declared once, in code, next to their handler.

A tool's arguments are a DRF serializer. The same serializer validates what the model
sent and produces the JSON Schema that goes into the Vapi tool definition, so the two
can never drift apart. ``Tool`` rows only carry what ops may change at run time
(enabled, deadline, which assistants get the tool); ``tools_sync`` creates them.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework import serializers

if TYPE_CHECKING:
    from assistants.models import Assistant
    from calls.models import Customer

DEFAULT_TIMEOUT_SECONDS = 5.0
# Vapi allows a-z, A-Z, 0-9, _ and -, at most 64 characters (CONTRACT §7.3).
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class DeadlineExceeded(Exception):  # noqa: N818 - reads better at the raise site
    """Raised by a handler (via ``ToolContext.check_deadline``) when its time is up."""


@dataclass
class ToolContext:
    """What a handler knows about the call it serves. Built by the dispatcher, cheap to make."""

    tool_call_id: str
    vapi_call_id: str
    caller_number: str
    invocation_id: int | None = None
    call_id: int | None = None
    deadline: float | None = None  # time.monotonic() value; None = no deadline (background run)
    # The business result the handler reports (a ``ToolOutcome`` value): "booked", "slot_taken"...
    outcome: str = ""
    # Filled by the dispatcher's claim, which reads the caller in the same statement.
    caller_cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def remaining(self) -> float | None:
        """Seconds left before the holding answer; handlers doing I/O pass this as their timeout."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise DeadlineExceeded()

    def caller(self) -> Customer | None:
        """The Customer on the line, by the line's number (one query, memoised).

        The only identity a tool may act for without a further verification step: never
        an id or a name the model passes in. None on a web call (no trusted number).
        """
        if "caller" not in self.caller_cache:
            from calls.models import Customer

            customer = None
            if self.caller_number:
                customer = Customer.objects.filter(number=self.caller_number).first()
            self.caller_cache["caller"] = customer
        return self.caller_cache["caller"]


Handler = Callable[[ToolContext, dict[str, Any]], "str | dict[str, Any] | list[Any]"]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    arguments: type[serializers.Serializer]
    handler: Handler
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    messages: tuple[dict[str, str], ...] = ()

    def parameters(self) -> dict[str, Any]:
        return serializer_json_schema(self.arguments)


REGISTRY: dict[str, ToolSpec] = {}


def register(
    *,
    name: str,
    description: str,
    arguments: type[serializers.Serializer],
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    messages: tuple[dict[str, str], ...] = (),
) -> Callable[[Handler], Handler]:
    """Declare a tool. Used as a decorator on its handler ``(ctx, validated_args) -> answer``."""
    if not _NAME_RE.match(name):
        raise ValueError(f"Tool name {name!r} is not a valid Vapi function name.")

    def decorate(handler: Handler) -> Handler:
        if name in REGISTRY and REGISTRY[name].handler is not handler:
            raise ValueError(f"Tool {name!r} is registered twice.")
        REGISTRY[name] = ToolSpec(
            name=name,
            description=description,
            arguments=arguments,
            handler=handler,
            timeout_seconds=timeout_seconds,
            messages=messages,
        )
        return handler

    return decorate


def unregister(name: str) -> None:
    """For tests that register throwaway tools."""
    REGISTRY.pop(name, None)


def get_spec(name: str) -> ToolSpec | None:
    _load_builtins()
    return REGISTRY.get(name)


def all_specs() -> list[ToolSpec]:
    _load_builtins()
    return [REGISTRY[name] for name in sorted(REGISTRY)]


_builtins_loaded = False


def _load_builtins() -> None:
    """Import the built-in tool modules once so their ``@register`` decorators run."""
    global _builtins_loaded
    if not _builtins_loaded:
        import tools.builtins  # noqa: F401

        _builtins_loaded = True


# --- JSON Schema from a serializer ------------------------------------------------------------

_STRING_FORMATS: list[tuple[type[serializers.Field], str]] = [
    (serializers.DateTimeField, "date-time"),
    (serializers.DateField, "date"),
    (serializers.TimeField, "time"),
    (serializers.EmailField, "email"),
    (serializers.UUIDField, "uuid"),
    (serializers.URLField, "uri"),
]


def field_json_schema(field_: serializers.Field) -> dict[str, Any]:
    """JSON Schema for one serializer field (the subset that function calling uses)."""
    schema: dict[str, Any]
    if isinstance(field_, serializers.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field_, serializers.IntegerField):
        schema = {"type": "integer"}
        _bounds(schema, field_)
    elif isinstance(field_, serializers.FloatField | serializers.DecimalField):
        schema = {"type": "number"}
        _bounds(schema, field_)
    elif isinstance(field_, serializers.ChoiceField):
        schema = {"type": "string", "enum": [str(key) for key in field_.choices]}
    elif isinstance(field_, serializers.ListField):
        schema = {"type": "array", "items": field_json_schema(field_.child)}
        if field_.min_length is not None:
            schema["minItems"] = field_.min_length
        if field_.max_length is not None:
            schema["maxItems"] = field_.max_length
    elif isinstance(field_, serializers.Serializer):
        schema = serializer_json_schema(type(field_))
    else:
        schema = {"type": "string"}
        for klass, fmt in _STRING_FORMATS:
            if isinstance(field_, klass):
                schema["format"] = fmt
                break
        if isinstance(field_, serializers.CharField):
            if field_.max_length is not None:
                schema["maxLength"] = field_.max_length
            if field_.min_length is not None:
                schema["minLength"] = field_.min_length
    if field_.help_text:
        schema["description"] = str(field_.help_text)
    if field_.default is not serializers.empty and not callable(field_.default):
        schema["default"] = field_.default
    return schema


def _bounds(schema: dict[str, Any], field_: Any) -> None:
    if getattr(field_, "min_value", None) is not None:
        schema["minimum"] = field_.min_value
    if getattr(field_, "max_value", None) is not None:
        schema["maximum"] = field_.max_value


def serializer_json_schema(serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
    """``{"type": "object", "properties", "required"}`` for a serializer's writable fields."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, field_ in serializer_class().fields.items():
        if field_.read_only:
            continue
        properties[name] = field_json_schema(field_)
        if field_.required:
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


# --- Tool rows and Vapi definitions ----------------------------------------------------------


def tools_sync() -> int:
    """Create a ``Tool`` row for every registered tool that has none; returns how many were made.

    Existing rows are left alone: ``enabled`` and ``timeout_seconds`` belong to ops once the
    row exists. The description is refreshed, since it lives in code.
    """
    from tools.models import Tool

    specs = all_specs()
    existing = {tool.name: tool for tool in Tool.objects.filter(name__in=[s.name for s in specs])}
    missing = [
        Tool(name=s.name, description=s.description, timeout_seconds=s.timeout_seconds)
        for s in specs
        if s.name not in existing
    ]
    Tool.objects.bulk_create(missing, ignore_conflicts=True)
    for spec in specs:
        tool = existing.get(spec.name)
        if tool is not None and tool.description != spec.description:
            Tool.objects.filter(pk=tool.pk).update(description=spec.description)
    return len(missing)


def webhook_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}/webhooks/vapi/"


def server_timeout_seconds(deadline_seconds: float) -> int:
    """How long Vapi should wait for us: our deadline plus a network margin, within Vapi's 1-300.

    Our own deadline answers with a holding sentence first, so Vapi must wait a little longer
    than it or the caller hears Vapi's generic failure instead.
    """
    return int(min(300, max(20, math.ceil(deadline_seconds) + 5)))


def vapi_tool_definition(spec: ToolSpec, *, timeout_seconds: float | None = None) -> dict[str, Any]:
    timeout = timeout_seconds if timeout_seconds is not None else spec.timeout_seconds
    definition: dict[str, Any] = {
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": spec.parameters(),
        },
        "server": {"url": webhook_url(), "timeoutSeconds": server_timeout_seconds(timeout)},
        "messages": [dict(m) for m in spec.messages],
    }
    return definition


def vapi_tool_definitions(*, assistant: Assistant) -> list[dict[str, Any]]:
    """The Vapi ``function`` tools for an assistant: its enabled tools that exist in code."""
    _load_builtins()
    rows = assistant.tools.filter(enabled=True, name__in=list(REGISTRY)).order_by("name")
    return [vapi_tool_definition(REGISTRY[row.name], timeout_seconds=row.timeout_seconds) for row in rows]
