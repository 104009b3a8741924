"""template.yaml read as data: the one source of the table, routes and handlers outside AWS.

Tests and the local stack create the table and route requests from here, so they cannot
drift from what `sam deploy` creates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads the short intrinsic forms (!Ref, !Sub, !GetAtt ...) as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


@cache
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CloudFormationLoader)  # noqa: S506 - a safe loader


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template()["Resources"].items() if body["Type"] == kind}


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments for the orders table, exactly as the template declares it."""
    [properties] = [body["Properties"] for body in resources("AWS::DynamoDB::Table").values()]
    definition = {
        key: properties[key]
        for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode", "StreamSpecification")
        if key in properties
    }
    definition["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    definition["SSESpecification"] = {"Enabled": properties["SSESpecification"]["SSEEnabled"]}
    return {"TableName": table_name, **definition}


@dataclass(frozen=True)
class Route:
    function: str
    handler: str
    method: str
    path: str  # API Gateway's form: /orders/{order_id}
    authorizer: str  # "COGNITO" or "AWS_IAM"


def routes() -> list[Route]:
    """Every Api event of every function, with the authorization API Gateway applies to it."""
    found = []
    for name, function in resources("AWS::Serverless::Function").items():
        properties = function["Properties"]
        for event in properties.get("Events", {}).values():
            if event["Type"] != "Api":
                continue
            auth = event["Properties"].get("Auth", {}).get("Authorizer")
            found.append(
                Route(
                    function=name,
                    handler=properties["Handler"],
                    method=event["Properties"]["Method"].upper(),
                    path=event["Properties"]["Path"],
                    authorizer="AWS_IAM" if auth == "AWS_IAM" else "COGNITO",
                )
            )
    return found


def handlers() -> dict[str, str]:
    """Function logical id -> Handler, for every function in the template."""
    return {name: body["Properties"]["Handler"] for name, body in resources("AWS::Serverless::Function").items()}
