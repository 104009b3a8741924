"""The OpenAPI document of the API (openapi.json), generated from the handlers' own models.

Every handler module the template names is imported, so its routes register on the shared
resolver, which writes the document. The template then adds what API Gateway does in front
of the handlers: each route's authorization (a Cognito ID token or a SigV4 signature), the
401/403 the gateway answers itself, and the 413 of its 10 MB limit.

    python -m infra.generate.openapi > openapi.json      (make openapi)
"""

from __future__ import annotations

import importlib
import json
import tomllib
from typing import Any

from infra import template

TITLE = "Order cancellations"
COGNITO = "CognitoUserPool"
SIGV4 = "SigV4"
GATEWAY_ERROR = "GatewayError"  # API Gateway's own answers: {"message": "..."}


def document() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, SecurityScheme, Server

    for handler in sorted(set(template.handlers().values())):
        importlib.import_module(handler.rsplit(".", 1)[0])
    from orders.api import app

    schemes: dict[str, SecurityScheme] = {
        COGNITO: APIKey(
            name="Authorization",
            in_=APIKeyIn.header,
            description="The seller's Cognito ID token, raw (no `Bearer` prefix); the seller is its "
            "custom:seller_id claim.",
            **{"x-amazon-apigateway-authtype": "cognito_user_pools"},
        ),
        SIGV4: APIKey(
            name="Authorization",
            in_=APIKeyIn.header,
            description="AWS Signature Version 4 (service execute-api) by the warehouse's IAM principal.",
            **{"x-amazon-apigateway-authtype": "awsSigv4"},
        ),
    }
    stage = template.parameters().get("StageName", "v1")
    servers = [
        Server(url="http://127.0.0.1:3000", description="make run (the local stack)"),
        Server(
            url="https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
            description="Deployed with sam deploy (see the stack's ApiUrl output)",
            variables={
                "api_id": {"default": "api_id", "description": "The REST API's id"},
                "region": {"default": "eu-west-2"},
                "stage": {"default": stage},
            },
        ),
    ]
    generated = app.get_openapi_json_schema(
        title=TITLE,
        version=_version(),
        description=" ".join(template.template().get("Description", "").split()),
        servers=servers,
        security_schemes=schemes,
    )
    return _with_gateway(json.loads(generated))


def _with_gateway(doc: dict[str, Any]) -> dict[str, Any]:
    """The template's view of each route: its authorization and the answers API Gateway gives itself."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas[GATEWAY_ERROR] = {
        "type": "object",
        "title": GATEWAY_ERROR,
        "description": "An answer of API Gateway itself (authorization, payload limit), not of the handlers.",
        "properties": {"message": {"type": "string", "title": "Message"}},
        "required": ["message"],
    }
    gateway_error = {"application/json": {"schema": {"$ref": f"#/components/schemas/{GATEWAY_ERROR}"}}}
    for route in template.routes():
        path = doc["paths"].get(route.path, {})
        operation = path.get(route.method.lower())
        if operation is None:
            raise LookupError(f"{route.method} {route.path} is in template.yaml but no handler registers it")
        responses = operation["responses"]
        # Invalid requests are answered 400 problem+json by orders.api, never the resolver's 422.
        responses.pop("422", None)
        if route.authorizer == "AWS_IAM":
            operation["security"] = [{SIGV4: []}]
            responses["403"] = {"description": "No valid warehouse signature (API Gateway)", "content": gateway_error}
        else:
            operation["security"] = [{COGNITO: []}]
            responses["401"] = {"description": "No valid ID token (API Gateway)", "content": gateway_error}
        if "requestBody" in operation:
            problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
            responses["413"] = {
                "description": "Body over 64 KiB (problem+json), or over 10 MB (API Gateway)",
                "content": {**problem, **gateway_error},
            }
            responses["415"] = {"description": "The body is not application/json", "content": problem}
    _drop_unreferenced(doc)
    return doc


def _drop_unreferenced(doc: dict[str, Any]) -> None:
    """Remove component schemas nothing refers to any more (the resolver's validation-error models)."""
    schemas = doc["components"]["schemas"]
    reachable: set[str] = set()
    pending = [doc["paths"]]
    while pending:
        text = json.dumps(pending.pop())
        for name in schemas:
            if f'"#/components/schemas/{name}"' in text and name not in reachable:
                reachable.add(name)
                pending.append(schemas[name])
    for name in set(schemas) - reachable:
        del schemas[name]


def _version() -> str:
    with (template.ROOT / "pyproject.toml").open("rb") as file:
        version: str = tomllib.load(file)["project"]["version"]
    return version


def render() -> str:
    """The committed form: two-space indent, sorted keys, a final newline."""
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
