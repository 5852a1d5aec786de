"""One error shape everywhere: DRF errors, domain errors, unknown /api/ paths, server errors."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from tests.api.conftest import assert_error
from voiceops.api.errors import api_exception_handler, handler404, handler500
from voiceops.errors import Conflict, DomainError, InvalidState, NotFound

pytestmark = pytest.mark.django_db


def test_unknown_api_path_is_json_404():
    response = APIClient().get("/api/v1/nothing-here/")
    assert response["Content-Type"].startswith("application/json")
    assert_error(response, 404, "not_found")


def test_non_api_404_stays_html():
    response = APIClient().get("/not-api/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")


def test_handler500_is_json_for_api_paths():
    response = handler500(RequestFactory().get("/api/v1/calls/"))
    assert response.status_code == 500
    assert set(json.loads(response.content)["error"]) == {"code", "message", "fields"}
    assert handler404(RequestFactory().get("/api/x"), None).status_code == 404


def test_malformed_json_is_400(admin_client):
    response = admin_client.post("/api/v1/customers/", data="{nope", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_unsupported_media_type_is_415(admin_client):
    response = admin_client.post(
        "/api/v1/customers/", data="number=1", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_nested_field_errors_are_dotted(admin_client):
    response = admin_client.post("/api/v1/campaigns/", {"name": "x", "assistant": None}, format="json")
    assert "assistant" in assert_error(response, 400, "validation_error")["fields"]


def test_nul_characters_are_a_400_not_a_500(admin_client):
    response = admin_client.post(
        "/api/v1/assistants/", {"name": "N", "metadata": {"k": "a\u0000b"}}, format="json"
    )
    assert_error(response, 400, "validation_error")


@pytest.mark.parametrize(
    "exc,status,code",
    [
        (NotFound("No such slot."), 404, "not_found"),
        (Conflict("That slot is taken."), 409, "conflict"),
        (InvalidState("Campaign is cancelled."), 409, "invalid_state"),
        (DomainError("Bad time.", fields={"starts_at": ["In the past."]}), 422, "invalid"),
        (DomainError("Custom", code="outside_hours"), 422, "outside_hours"),
    ],
)
def test_domain_errors_are_translated(exc, status, code):
    response = api_exception_handler(exc, {"view": None, "request": None})
    assert response.status_code == status
    assert response.data["error"]["code"] == code
    assert response.data["error"]["message"] == exc.message
    assert response.data["error"]["fields"] == exc.fields
