"""template.yaml as the local stack reads it: intrinsics resolved, environments, stream events, samconfig."""

from __future__ import annotations

import re
import tomllib

import pytest

from infra import template
from infra.template import NO_VALUE, Resolver, Unresolvable


@pytest.fixture
def resolve() -> Resolver:
    refs = {**template.parameters(), "AWS::Region": "eu-west-2", "AWS::StackName": "s", "OrdersTable": "orders"}
    return Resolver(refs, {("OrdersTable", "Arn"): "arn:aws:dynamodb:eu-west-2:1:table/orders"})


def test_intrinsics_resolve_against_local_names(resolve: Resolver):
    assert resolve({"Ref": "OrdersTable"}) == "orders"
    assert resolve({"Fn::GetAtt": ["OrdersTable", "Arn"]}) == "arn:aws:dynamodb:eu-west-2:1:table/orders"
    assert resolve({"Fn::Sub": "${AWS::StackName}-${OrdersTable}/${OrdersTable.Arn}"}) == (
        "s-orders/arn:aws:dynamodb:eu-west-2:1:table/orders"
    )
    assert resolve({"Fn::Sub": ["${Name}!${!Literal}", {"Name": {"Ref": "OrdersTable"}}]}) == "orders!${Literal}"
    assert resolve({"Fn::Join": [":", ["a", {"Ref": "OrdersTable"}]]}) == "a:orders"
    # The template's own condition: tracing is on by default
    assert resolve(template.template()["Globals"]["Function"]["Tracing"]) == "Active"
    assert resolve({"A": {"Ref": "AWS::NoValue"}, "B": [1, {"Ref": "AWS::NoValue"}]}) == {"B": [1]}
    assert resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_an_unknown_reference_is_an_error_not_a_guess(resolve: Resolver):
    with pytest.raises(Unresolvable):
        resolve({"Ref": "Nowhere"})
    with pytest.raises(Unresolvable):
        resolve({"Fn::ImportValue": "x"})


def test_a_functions_environment_is_globals_then_its_own():
    for function in template.handlers():
        environment = template.function_environment(function)
        assert environment["TABLE_NAME"] == {"Ref": "OrdersTable"}
        assert environment["POWERTOOLS_SERVICE_NAME"] == "order-cancellations"
    assert template.function_environment("NotifierFunction")["TOPIC_ARN"] == {"Ref": "OrderEventsTopic"}
    assert template.function_setting("NotifierFunction", "Timeout") == 30
    assert template.function_setting("CreateOrderFunction", "Timeout") == 10


def test_the_stream_event_of_the_notifier_is_found():
    [subscription] = template.stream_subscriptions()
    assert subscription.function == "NotifierFunction"
    assert subscription.handler == "orders.handlers.notifier.handler"
    assert subscription.properties["Stream"] == {"Fn::GetAtt": ["OrdersTable", "StreamArn"]}


def test_samconfig_deploys_the_templates_parameters():
    config = tomllib.loads((template.ROOT / "samconfig.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_s3"] is True
    overridden = dict(re.findall(r'(\w+)="([^"]*)"', deploy["parameter_overrides"]))
    assert overridden.keys() <= template.parameters().keys()
    for name, value in overridden.items():
        allowed = template.template()["Parameters"][name].get("AllowedValues")
        assert allowed is None or value in [str(v) for v in allowed], name
    env_vars = template.ROOT / config["default"]["local_invoke"]["parameters"]["env_vars"]
    assert env_vars.is_file()
