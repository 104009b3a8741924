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


# -- a channel's URL: the document says what the server checks ------------------------------------------


@pytest.fixture(scope="module")
def channel_url(generated: str) -> dict:
    return json.loads(generated)["components"]["schemas"]["ChannelBody"]["properties"]["url"]


@pytest.mark.parametrize(
    "url",
    [
        "0",  # what schemathesis generated: no scheme, no host (the server's 400)
        "hooks.example.com/orders",
        "http://hooks.example.com/",  # deployed: https only
        "ftp://hooks.example.com/",
        "https://user:secret@hooks.example.com/",
        "https://user@hooks.example.com/",
        "https://@hooks.example.com/",
        "https:///path",
        "https://hooks.example.com:99999/",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/\u00e9",
        "https://hooks.example.com/#frag",
        "https://hooks.example.com/" + "a" * 2048,
        "",
    ],
)
def test_a_url_the_server_refuses_for_its_form_is_invalid_by_the_document(channel_url, url):
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(url, channel_url, format_checker=jsonschema.FormatChecker())


def test_the_document_names_the_scheme_format_length_and_the_local_stacks_exception(channel_url):
    assert channel_url["format"] == "uri" and channel_url["maxLength"] == 2048
    assert channel_url["pattern"].startswith("^https://")
    assert "http://localhost" in channel_url["description"] and "http://127.0.0.1" in channel_url["description"]


def test_every_url_the_document_allows_passes_the_servers_checks_of_its_form(channel_url):
    """What a client generated from openapi.json sends is refused for nothing but where its host leads."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from orders.notification.webhooks import check

    pattern = channel_url["pattern"]
    assert re.fullmatch(pattern, "https://hooks.example.com:8443/orders?x=1")

    @settings(max_examples=500, deadline=None, database=None)
    @given(st.from_regex(pattern, fullmatch=True).filter(lambda url: len(url) <= channel_url["maxLength"]))
    def accepted(url: str) -> None:
        target = check(url, resolver=lambda host, port: ["93.184.215.14"])  # a public host: only the form counts
        assert target.scheme == "https"

    accepted()
