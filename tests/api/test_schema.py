"""/api/schema/ is valid OpenAPI 3, describes the error shape on every operation; /api/docs/ serves."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_validates_against_openapi_3(schema):
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 meta-schema


def test_schema_generation_has_no_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))


def test_every_operation_documents_the_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert set(detail["properties"]) == {"code", "message", "fields"}
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method, op in item.items()
    ]
    assert len(operations) > 25
    for path, method, op in operations:
        for code in ("400", "401", "403", "429"):
            ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/Error", (path, method, code)
        assert op["security"] == [{"ApiKeyAuth": []}], (path, method)


def test_api_key_security_scheme(schema):
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schema["components"]["securitySchemes"]["ApiKeyAuth"]["description"],
    }


def test_operations_carry_examples(schema):
    call_create_or_detail = schema["paths"]["/api/v1/calls/{id}/"]["get"]["responses"]["200"]["content"]
    assert "examples" in call_create_or_detail["application/json"]
    campaign_create = schema["paths"]["/api/v1/campaigns/"]["post"]
    assert "examples" in campaign_create["requestBody"]["content"]["application/json"]
    assert any(p["name"] == "Idempotency-Key" for p in campaign_create["parameters"])


def test_swagger_ui_is_served():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200 and b"swagger" in response.content.lower()
