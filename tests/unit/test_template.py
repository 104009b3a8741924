"""template.yaml is the single source of routes, handlers and permissions: hold the code to it."""

from __future__ import annotations

import pytest

from infra.template import handlers, resources, routes, template
from tests.support.fresh import import_alone

ROUTE_LISTING = """
import json, importlib, sys
importlib.import_module(sys.argv[1])
from orders.api import app
paths = app.get_openapi_schema().paths
methods = ("get", "post", "patch")
routes = [[method.upper(), path] for path, item in paths.items() for method in methods if getattr(item, method)]
print(json.dumps(sorted(routes)))
"""


@pytest.mark.parametrize("function, handler", sorted(handlers().items()))
def test_each_function_imports_alone_and_serves_exactly_its_template_routes(function, handler):
    # As in Lambda: a fresh interpreter that imports only this function's module.
    module, attribute = handler.rsplit(".", 1)
    assert attribute == "handler"
    served = {tuple(route) for route in import_alone(ROUTE_LISTING, module)}
    declared = {(route.method, route.path) for route in routes() if route.function == function}
    assert served == declared


def test_seller_routes_use_cognito_and_warehouse_routes_use_iam():
    for route in routes():
        expected = "AWS_IAM" if route.path.startswith("/warehouse/") else "COGNITO"
        assert route.authorizer == expected, route
    api = template()["Resources"]["OrdersApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "SellerAuthorizer"
    assert api["Auth"]["AddDefaultAuthorizerToCorsPreflight"] is False


def _actions(function: str) -> set[str]:
    statements = [
        statement
        for policy in resources("AWS::Serverless::Function")[function]["Properties"].get("Policies", [])
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
    ]
    actions = set()
    for statement in statements:
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def test_each_api_function_may_do_only_what_it_does():
    assert _actions("CreateOrderFunction") == {"dynamodb:PutItem"}
    assert _actions("ReadOrdersFunction") == {"dynamodb:GetItem", "dynamodb:Query"}
    for command in (
        "CancelOrderFunction",
        "RequestCancellationFunction",
        "WarehouseDecisionFunction",
        "WarehouseStatusFunction",
    ):
        assert _actions(command) == {"dynamodb:UpdateItem"}


def test_the_table_is_protected_and_streams_both_images():
    [table] = resources("AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"] == {"SSEEnabled": True}
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["DeletionPolicy"] == "Retain"


def test_every_function_has_a_log_group_with_retention():
    groups = resources("AWS::Logs::LogGroup").values()
    named = {group["Properties"]["LogGroupName"]["Fn::Sub"] for group in groups}
    assert named == {f"/aws/lambda/${{{function}}}" for function in handlers()}
    assert all("RetentionInDays" in group["Properties"] for group in groups)
