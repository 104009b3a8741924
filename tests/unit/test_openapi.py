"""openapi.json: committed, generated from the handlers' models, and in step with template.yaml."""

from __future__ import annotations

import json

import pytest

from infra.generate import openapi
from infra.template import ROOT, routes

COMMITTED = ROOT / "openapi.json"


@pytest.fixture(scope="module")
def generated() -> str:
    return openapi.render()


def test_the_committed_document_is_what_the_code_generates(generated: str):
    assert COMMITTED.read_text() == generated, "openapi.json drifted from the code: run `make openapi` and commit it"


def test_every_template_route_is_documented_with_its_authorization(generated: str):
    paths = json.loads(generated)["paths"]
    for route in routes():
        operation = paths[route.path][route.method.lower()]
        if route.authorizer == "AWS_IAM":
            assert operation["security"] == [{openapi.SIGV4: []}], route
            assert "403" in operation["responses"], route
        else:
            assert operation["security"] == [{openapi.COGNITO: []}], route
            assert "401" in operation["responses"], route
    documented = {(path, method.upper()) for path, operations in paths.items() for method in operations}
    assert documented == {(route.path, route.method) for route in routes()}


def test_invalid_requests_are_documented_as_the_400_the_api_answers(generated: str):
    doc = json.loads(generated)
    for operations in doc["paths"].values():
        for operation in operations.values():
            assert "422" not in operation["responses"]
            assert operation["responses"]["400"]["content"]["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_the_document_is_openapi_that_schemathesis_reads(generated: str):
    import schemathesis

    schema = schemathesis.openapi.from_dict(json.loads(generated))
    assert {operation.ok().label for operation in schema.get_all_operations()} == {
        f"{route.method} {route.path}" for route in routes()
    }
