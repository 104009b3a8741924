"""template.yaml read as data: the one source of the table, routes and handlers outside AWS.

Tests and the local stack create the table and route requests from here, so they cannot
drift from what `sam deploy` creates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class TemplateUnreadable(ValueError):
    """template.yaml is not a template cfn-lint can read (what `make lint` would also report)."""


@cache
def template(path: Path = TEMPLATE) -> dict[str, Any]:
    """template.yaml (or another template file) as plain dicts, lists and scalars, the short intrinsics
    (!Ref ...) in their long forms. Everything below reads template.yaml's; `make capacity --template`
    reads another."""
    # cfn-lint's own decoder (`make lint` reads the template with it too); imported here because
    # importing cfn-lint takes over half a second, which only the callers that read the template pay.
    from cfnlint.decode import decode

    decoded, problems = decode(str(path))
    if decoded is None or problems:
        raise TemplateUnreadable(f"{path}: " + "; ".join(str(problem) for problem in problems))
    return _plain_mapping(decoded)


def _plain_mapping(mapping: dict[str, Any]) -> dict[str, Any]:
    return {_plain(key): _plain(item) for key, item in mapping.items()}


def _plain(value: Any) -> Any:
    """cfn-lint's nodes (dict, list and str subclasses that carry line marks) as the plain types."""
    if isinstance(value, dict):
        return _plain_mapping(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template()["Resources"].items() if body["Type"] == kind}


ORDERS_TABLE = "OrdersTable"
NOTIFICATIONS_TABLE = "NotificationsTable"
TRACKING_TABLE = "TrackingTable"


def table_definition(table_name: str, logical_id: str = ORDERS_TABLE) -> dict[str, Any]:
    """CreateTable arguments for a table of the template (the orders table unless named), exactly as declared.

    The TTL is not a CreateTable argument: `time_to_live` gives UpdateTimeToLive's, if the table has one.
    """
    properties = resources("AWS::DynamoDB::Table")[logical_id]["Properties"]
    definition = {
        key: properties[key]
        for key in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
        if key in properties
    }
    if "StreamSpecification" in properties:
        definition["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    definition["SSESpecification"] = {"Enabled": properties["SSESpecification"]["SSEEnabled"]}
    return {"TableName": table_name, **definition}


def time_to_live(logical_id: str) -> dict[str, Any] | None:
    """The table's TTL as UpdateTimeToLive's TimeToLiveSpecification, or None."""
    specification = resources("AWS::DynamoDB::Table")[logical_id]["Properties"].get("TimeToLiveSpecification")
    return (
        {"AttributeName": specification["AttributeName"], "Enabled": specification["Enabled"]}
        if specification
        else None
    )


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


# -- beyond the table and the routes: what the local stack needs to stand the rest up ------


def parameters() -> dict[str, str]:
    """Each template parameter's default, as `sam deploy` would use it without overrides."""
    return {name: str(body.get("Default", "")) for name, body in template().get("Parameters", {}).items()}


def api() -> tuple[str, dict[str, Any]]:
    """The one AWS::Serverless::Api: its logical id and its properties (Cors, Auth, GatewayResponses)."""
    [(name, body)] = resources("AWS::Serverless::Api").items()
    return name, body.get("Properties", {})


def function_environment(function: str) -> dict[str, Any]:
    """A function's environment variables as written (Globals first), intrinsics unresolved."""
    variables = dict(template().get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    properties = template()["Resources"][function]["Properties"]
    variables.update(properties.get("Environment", {}).get("Variables", {}))
    return variables


def function_setting(function: str, name: str) -> Any:
    """A function property (MemorySize, Timeout ...), the function's own value first, then Globals."""
    properties = template()["Resources"][function]["Properties"]
    return properties.get(name, template().get("Globals", {}).get("Function", {}).get(name))


@dataclass(frozen=True)
class StreamSubscription:
    """A function's DynamoDB event: the Lambda event source mapping that feeds it the table's stream."""

    function: str
    handler: str
    properties: dict[str, Any]


def queue_subscriptions() -> list[StreamSubscription]:
    """Every function's SQS event: the event source mappings that feed it a queue."""
    return [
        StreamSubscription(name, function["Properties"]["Handler"], event["Properties"])
        for name, function in resources("AWS::Serverless::Function").items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS"
    ]


def stream_subscriptions() -> list[StreamSubscription]:
    found = []
    for name, function in resources("AWS::Serverless::Function").items():
        properties = function["Properties"]
        for event in properties.get("Events", {}).values():
            if event["Type"] == "DynamoDB":
                found.append(StreamSubscription(name, properties["Handler"], event["Properties"]))
    return found


@dataclass(frozen=True)
class Schedule:
    """A function's Schedule event: EventBridge invokes it every `rate_seconds`."""

    function: str
    event: str
    expression: str
    rate_seconds: int


_RATE = re.compile(r"rate\((?P<value>[1-9][0-9]*) (?P<unit>minutes?|hours?|days?)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def schedules() -> list[Schedule]:
    """Every Schedule event of every function; a cron() expression is not run locally, and says so."""
    found = []
    for name, function in resources("AWS::Serverless::Function").items():
        for event_name, event in function["Properties"].get("Events", {}).items():
            if event["Type"] != "Schedule":
                continue
            expression = event["Properties"]["Schedule"]
            rate = _RATE.fullmatch(expression)
            if rate is None:
                raise Unresolvable(
                    f"{name}.{event_name}: {expression} is not a rate(); the local stack runs rates only"
                )
            seconds = int(rate["value"]) * _UNIT_SECONDS[rate["unit"].rstrip("s")]
            found.append(Schedule(name, event_name, expression, seconds))
    return found


def parameter_error(name: str, value: str) -> str | None:
    """Why CloudFormation would refuse `value` for parameter `name` (None: it would take it)."""
    declared = template().get("Parameters", {})
    if name not in declared:
        return f"the template has no parameter {name} (it has {', '.join(sorted(declared))})"
    body = declared[name]
    if "AllowedValues" in body and value not in [str(allowed) for allowed in body["AllowedValues"]]:
        return f"{name} must be one of {', '.join(str(allowed) for allowed in body['AllowedValues'])}"
    if "AllowedPattern" in body and not re.fullmatch(body["AllowedPattern"], value):
        return f"{name} must match {body['AllowedPattern']}"
    if body.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return f"{name} must be a number"
        if "MinValue" in body and number < float(body["MinValue"]):
            return f"{name} must be at least {body['MinValue']}"
        if "MaxValue" in body and number > float(body["MaxValue"]):
            return f"{name} must be at most {body['MaxValue']}"
    return None


NO_VALUE = object()  # what !Ref AWS::NoValue resolves to: the property is dropped


class Unresolvable(ValueError):
    """An intrinsic function or reference this resolver does not know."""


@dataclass
class Resolver:
    """Resolves the intrinsic functions of template values against known physical names.

    `refs` maps a logical id or parameter to what `!Ref` gives; `attributes` maps
    (logical id, attribute) to what `!GetAtt` gives. Conditions are evaluated from the template.
    """

    refs: dict[str, str]
    attributes: dict[tuple[str, str], str]

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self, value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(key, argument)] = value.items()
            if key == "Ref" or key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, argument)
        resolved = {key: self(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _intrinsic(self, key: str, argument: Any) -> Any:
        function = _INTRINSICS.get(key)
        if function is None:
            raise Unresolvable(f"{key} is not supported locally")
        return function(self, argument)

    def _get_att(self, argument: Any) -> str:
        logical, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        return self._attribute(logical, attribute)

    def _sub_of(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        return self._sub(text, {name: self(item) for name, item in variables.items()})

    def _join(self, argument: Any) -> str:
        separator, items = argument
        return str(separator).join(str(item) for item in self(items))

    def _select(self, argument: Any) -> Any:
        index, items = argument
        return self(items)[int(self(index))]

    def _if(self, argument: Any) -> Any:
        condition, if_true, if_false = argument
        return self(if_true if self.condition(condition) else if_false)

    def _equals(self, argument: Any) -> bool:
        left, right = argument
        return str(self(left)) == str(self(right))

    def condition(self, name: str) -> bool:
        return bool(self(template()["Conditions"][name]))

    def condition_value(self, value: Any) -> bool:
        return bool(self(value))

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name not in self.refs:
            raise Unresolvable(f"!Ref {name}: nothing local answers to it")
        return self.refs[name]

    def _attribute(self, logical: str, attribute: str) -> str:
        if (logical, attribute) not in self.attributes:
            raise Unresolvable(f"!GetAtt {logical}.{attribute}: nothing local answers to it")
        return self.attributes[(logical, attribute)]

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                return self._attribute(*name.split(".", 1))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)


# Each intrinsic function the resolver knows, by its long form's key.
_INTRINSICS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": Resolver._ref,
    "Fn::GetAtt": Resolver._get_att,
    "Fn::Sub": Resolver._sub_of,
    "Fn::Join": Resolver._join,
    "Fn::Select": Resolver._select,
    "Fn::If": Resolver._if,
    "Fn::Equals": Resolver._equals,
    "Fn::Not": lambda resolver, argument: not resolver.condition_value(argument[0]),
    "Fn::And": lambda resolver, argument: all(resolver.condition_value(item) for item in argument),
    "Fn::Or": lambda resolver, argument: any(resolver.condition_value(item) for item in argument),
    "Condition": Resolver.condition,
}
