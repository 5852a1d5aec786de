"""The registry: schemas derived from serializers, Tool rows, Vapi tool definitions."""

from __future__ import annotations

import jsonschema
import pytest
from rest_framework import serializers

from tests.factories import AssistantFactory, ToolFactory
from tools.builtins.arguments import BookAppointmentArgs
from tools.models import Tool
from tools.registry import (
    REGISTRY,
    all_specs,
    register,
    serializer_json_schema,
    server_timeout_seconds,
    tools_sync,
    unregister,
    vapi_tool_definitions,
)

BUILTINS = {
    "get_customer_info",
    "check_availability",
    "book_appointment",
    "cancel_appointment",
    "reschedule_appointment",
    "opt_out",
}


def test_every_builtin_is_registered():
    assert BUILTINS <= {spec.name for spec in all_specs()}


def test_schema_is_derived_from_the_serializer():
    schema = serializer_json_schema(BookAppointmentArgs)
    assert schema["type"] == "object"
    assert schema["required"] == ["date", "time"]
    assert schema["properties"]["date"] == {
        "type": "string",
        "format": "date",
        "description": "Date as YYYY-MM-DD, in the caller's time zone.",
    }
    assert schema["properties"]["time"]["format"] == "time"
    # Identity is the line's: no tool schema lets the model name a customer.
    assert "customer_id" not in schema["properties"]
    assert schema["properties"]["name"]["maxLength"] == 200
    jsonschema.Draft202012Validator.check_schema(schema)


def test_no_tool_takes_a_customer_id_and_cancel_reschedule_spell_out_verification():
    from tools.registry import all_specs

    for spec in all_specs():
        assert "customer_id" not in spec.parameters()["properties"], spec.name
    for name in ("cancel_appointment", "reschedule_appointment"):
        (spec,) = [s for s in all_specs() if s.name == name]
        verification = spec.parameters()["properties"]["booked_from_number"]
        assert "booked from a different phone number" in verification["description"]
        assert "booked_from_number" not in spec.parameters()["required"]


def test_schema_covers_choices_lists_numbers_and_defaults():
    class Args(serializers.Serializer):
        colour = serializers.ChoiceField(choices=["red", "green"], help_text="A colour.")
        tags = serializers.ListField(child=serializers.CharField(), max_length=3)
        weight = serializers.FloatField(min_value=0, required=False)
        flag = serializers.BooleanField(default=False)
        count = serializers.IntegerField(default=3, max_value=9)

    schema = serializer_json_schema(Args)
    props = schema["properties"]
    assert props["colour"] == {"type": "string", "enum": ["red", "green"], "description": "A colour."}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "maxItems": 3}
    assert props["weight"] == {"type": "number", "minimum": 0}
    assert props["flag"] == {"type": "boolean", "default": False}
    assert props["count"] == {"type": "integer", "maximum": 9, "default": 3}
    assert schema["required"] == ["colour", "tags"]


def test_register_rejects_names_vapi_would_refuse():
    with pytest.raises(ValueError):
        register(name="book appointment", description="x", arguments=BookAppointmentArgs)


@pytest.mark.django_db
def test_tools_sync_creates_missing_rows_and_keeps_ops_settings():
    Tool.objects.create(name="book_appointment", description="old", enabled=False, timeout_seconds=9)
    created = tools_sync()
    assert created == len(REGISTRY) - 1
    assert set(Tool.objects.values_list("name", flat=True)) >= BUILTINS
    kept = Tool.objects.get(name="book_appointment")
    assert (kept.enabled, kept.timeout_seconds) == (False, 9)
    assert kept.description == REGISTRY["book_appointment"].description
    assert tools_sync() == 0


@pytest.mark.django_db
def test_tools_sync_command(capsys):
    from django.core.management import call_command

    call_command("tools_sync")
    assert "tool row(s) created" in capsys.readouterr().out
    assert Tool.objects.filter(name="opt_out").exists()


@pytest.mark.django_db
def test_vapi_definitions_are_the_enabled_tools_of_the_assistant(settings):
    settings.PUBLIC_BASE_URL = "https://ops.example.org"
    tools_sync()
    assistant = AssistantFactory()
    book = Tool.objects.get(name="book_appointment")
    book.timeout_seconds = 30
    book.save()
    Tool.objects.filter(name="opt_out").update(enabled=False)
    ToolFactory(name="not_in_code")
    assistant.tools.set(Tool.objects.filter(name__in=["book_appointment", "opt_out", "not_in_code"]))
    other = AssistantFactory()
    other.tools.set(Tool.objects.filter(name="get_customer_info"))

    definitions = vapi_tool_definitions(assistant=assistant)

    assert [d["function"]["name"] for d in definitions] == ["book_appointment"]
    (book_def,) = definitions
    assert book_def["type"] == "function"
    assert book_def["server"] == {"url": "https://ops.example.org/webhooks/vapi/", "timeoutSeconds": 35}
    assert book_def["function"]["parameters"] == serializer_json_schema(BookAppointmentArgs)
    assert book_def["function"]["description"] == REGISTRY["book_appointment"].description
    assert book_def["messages"] == [{"type": "request-start", "content": "Let me book that for you."}]
    assert set(book_def) == {"type", "function", "server", "messages"}


@pytest.mark.parametrize("deadline,expected", [(5, 20), (0.5, 20), (16, 21), (299, 300)])
def test_vapi_waits_longer_than_our_deadline(deadline, expected):
    assert server_timeout_seconds(deadline) == expected


def test_definitions_match_the_vapi_tool_fixture_shape():
    from tests.conftest import load_fixture

    fixture = load_fixture("rest/tool-create-request.json")
    from tools.registry import vapi_tool_definition

    ours = vapi_tool_definition(REGISTRY["check_availability"])
    assert set(ours["function"]) <= set(fixture["function"]) | {"parameters", "description", "name"}
    assert ours["type"] == fixture["type"]
    assert set(ours["server"]) <= set(fixture.get("server", {})) | {"url", "timeoutSeconds"}


def test_unregister_removes_a_throwaway_tool():
    class Args(serializers.Serializer):
        pass

    register(name="throwaway_tool", description="x", arguments=Args)(lambda ctx, args: "ok")
    assert "throwaway_tool" in REGISTRY
    unregister("throwaway_tool")
    assert "throwaway_tool" not in REGISTRY
