"""The AWS resources of template.yaml, created in moto's server from the template itself.

Each resource type the stack uses has one small function that turns its CloudFormation
properties (intrinsics resolved) into the API calls CloudFormation would make. Types that
need nothing created locally (functions, the API, log groups) only get their physical
names, so that `!Ref` and `!Sub` resolve; any other type is listed as not emulated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from infra import template
from infra.template import Resolver

# CloudFormation properties that are also the API's parameters, by resource type.
_USER_POOL_KEYS = frozenset(
    {
        "Policies",
        "AutoVerifiedAttributes",
        "AliasAttributes",
        "UsernameAttributes",
        "MfaConfiguration",
        "DeviceConfiguration",
        "AdminCreateUserConfig",
        "Schema",
        "UsernameConfiguration",
        "AccountRecoverySetting",
        "DeletionProtection",
        "UserAttributeUpdateSettings",
        "VerificationMessageTemplate",
        "UserPoolAddOns",
        "UserPoolTags",
    }
)
_USER_POOL_CLIENT_KEYS = frozenset(
    {
        "ClientName",
        "GenerateSecret",
        "RefreshTokenValidity",
        "AccessTokenValidity",
        "IdTokenValidity",
        "TokenValidityUnits",
        "ReadAttributes",
        "WriteAttributes",
        "ExplicitAuthFlows",
        "SupportedIdentityProviders",
        "CallbackURLs",
        "LogoutURLs",
        "DefaultRedirectURI",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "AllowedOAuthFlowsUserPoolClient",
        "PreventUserExistenceErrors",
        "EnableTokenRevocation",
        "AuthSessionValidity",
    }
)
# The flow /_local/tokens signs sellers in with (see LocalResources.token_client_id).
LOCAL_AUTH_FLOW = "ALLOW_ADMIN_USER_PASSWORD_AUTH"
# Types that exist locally only as names: the gateway, the functions and their logs are emulated in-process.
_NAMED_ONLY = frozenset({"AWS::Serverless::Api", "AWS::Serverless::Function", "AWS::Logs::LogGroup"})


@dataclass(frozen=True)
class Queue:
    url: str
    arn: str


@dataclass(frozen=True)
class Principal:
    """An IAM user with an access key: who a SigV4 signature may be from, and what it may invoke."""

    access_key_id: str
    secret_access_key: str
    arn: str
    user_id: str
    account_id: str
    policies: tuple[dict[str, Any], ...]


@dataclass
class LocalResources:
    region: str
    account_id: str
    stack_name: str
    stage: str
    api_id: str
    resolver: Resolver
    table_name: str = ""  # the orders table's
    stream_arn: str = ""
    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    topics: dict[str, str] = field(default_factory=dict)  # logical id -> topic ARN
    queues: dict[str, Queue] = field(default_factory=dict)  # logical id -> queue
    user_pools: dict[str, str] = field(default_factory=dict)  # logical id -> pool id
    clients: dict[str, tuple[str, str]] = field(default_factory=dict)  # logical id -> (pool id, client id)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # logical id -> policy document
    warehouse: Principal | None = None
    not_emulated: list[str] = field(default_factory=list)

    def queue_url(self, arn: str) -> str:
        return next(queue.url for queue in self.queues.values() if queue.arn == arn)

    def audiences(self, pool_id: str) -> list[str]:
        """The app client ids of a pool: the `aud` an ID token of that pool may carry."""
        return [client_id for pool, client_id in self.clients.values() if pool == pool_id]

    def token_client_id(self, pool_id: str) -> str:
        """The client /_local/tokens signs in with: the pool's first client, given the admin flow locally."""
        return self.audiences(pool_id)[0]

    def environment(self, function: str) -> dict[str, str]:
        """The function's environment variables as the template sets them, resolved to local names."""
        return {name: str(self.resolver(value)) for name, value in template.function_environment(function).items()}

    def function_name(self, function: str) -> str:
        return self.resolver.refs[function]


class Clients:
    """boto3 clients against moto's server, made once each from their own session (thread-safe)."""

    def __init__(self, endpoint_url: str, region: str):
        import boto3

        self._session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=region
        )
        self._endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}

    def __getattr__(self, service: str) -> Any:
        if service not in _SERVICES:
            raise AttributeError(service)
        if service not in self._clients:
            self._clients[service] = self._session.client(_SERVICES[service], endpoint_url=self._endpoint_url)
        return self._clients[service]


# The clients the local stack uses, as attributes of Clients: attribute -> boto3's service name.
_SERVICES: dict[str, Literal["cognito-idp", "dynamodb", "dynamodbstreams", "iam", "sns", "sqs"]] = {
    "cognito": "cognito-idp",
    "dynamodb": "dynamodb",
    "streams": "dynamodbstreams",
    "iam": "iam",
    "sns": "sns",
    "sqs": "sqs",
}


def create_resources(
    clients: Clients,
    *,
    region: str,
    account_id: str,
    stack_name: str,
    parameter_overrides: dict[str, str] | None = None,
) -> LocalResources:
    """Create every resource of template.yaml that moto emulates, in dependency order."""
    parameters = {**template.parameters(), **(parameter_overrides or {})}
    refs = {
        **parameters,
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    api_name, _ = template.api()
    found = LocalResources(
        region=region,
        account_id=account_id,
        stack_name=stack_name,
        stage=parameters.get("StageName", "v1"),
        api_id="local",
        resolver=Resolver(refs, {}),
    )
    refs[api_name] = found.api_id
    for name in template.resources("AWS::Serverless::Function"):
        refs[name] = f"{stack_name}-{name}"
        found.resolver.attributes[(name, "Arn")] = f"arn:aws:lambda:{region}:{account_id}:function:{refs[name]}"
    for name in template.resources("AWS::Logs::LogGroup"):
        found.resolver.attributes[(name, "Arn")] = f"arn:aws:logs:{region}:{account_id}:log-group:{name}"

    creators: list[tuple[str, Callable[[Clients, LocalResources, str, dict[str, Any]], None]]] = [
        ("AWS::DynamoDB::Table", _table),
        ("AWS::SQS::Queue", _queue),
        ("AWS::SNS::Topic", _topic),
        ("AWS::SNS::Subscription", _subscription),
        ("AWS::SQS::QueuePolicy", _queue_policy),
        ("AWS::SNS::TopicPolicy", _topic_policy),
        ("AWS::Cognito::UserPool", _user_pool),
        ("AWS::Cognito::UserPoolClient", _user_pool_client),
        ("AWS::IAM::ManagedPolicy", _managed_policy),
    ]
    for kind, create in creators:
        for name, body in _dependency_order(template.resources(kind)):
            create(clients, found, name, body.get("Properties", {}))
    handled = {kind for kind, _ in creators} | _NAMED_ONLY
    for name, body in template.template()["Resources"].items():
        if body["Type"] not in handled:
            found.not_emulated.append(f"{name} ({body['Type']})")
    found.warehouse = _warehouse_principal(clients, found)
    return found


def _dependency_order(bodies: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Resources of one type, those that name another of the same type (a dead-letter queue) after it."""
    pending, ordered = dict(bodies), []
    while pending:
        ready = [name for name, body in pending.items() if not (_references(body) & (pending.keys() - {name}))]
        for name in ready or list(pending)[:1]:
            ordered.append((name, pending.pop(name)))
    return ordered


def _references(value: Any) -> set[str]:
    """The logical ids a template value names through !Ref, !GetAtt or !Sub."""
    if isinstance(value, list):
        return set().union(*map(_references, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    named: set[str] = set()
    for key, item in value.items():
        if key == "Ref" and isinstance(item, str):
            named.add(item)
        elif key == "Fn::GetAtt":
            named.add(item[0] if isinstance(item, list) else item.split(".")[0])
        elif key == "Fn::Sub":
            text = item if isinstance(item, str) else item[0]
            named.update(part.split(".")[0] for part in re.findall(r"\$\{([^}!]+)\}", text))
            named |= _references(item if isinstance(item, list) else [])
        else:
            named |= _references(item)
    return named


def _table(clients: Clients, found: LocalResources, name: str, properties: dict[str, Any]) -> None:
    table_name = properties.get("TableName") or f"{found.stack_name}-{name}"
    description = clients.dynamodb.create_table(**template.table_definition(table_name, name))["TableDescription"]
    ttl = template.time_to_live(name)
    if ttl:
        clients.dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)
    found.tables[name] = table_name
    found.resolver.refs[name] = table_name
    found.resolver.attributes[(name, "Arn")] = description["TableArn"]
    if name == template.ORDERS_TABLE:
        found.table_name, found.stream_arn = table_name, description["LatestStreamArn"]
        found.resolver.attributes[(name, "StreamArn")] = description["LatestStreamArn"]


def _queue(clients: Clients, found: LocalResources, name: str, properties: dict[str, Any]) -> None:
    properties = found.resolver(properties)
    queue_name = properties.pop("QueueName", None) or f"{found.stack_name}-{name}"
    if properties.get("FifoQueue") and not queue_name.endswith(".fifo"):
        queue_name += ".fifo"
    properties.pop("Tags", None)
    attributes = {key: _attribute_text(value) for key, value in properties.items()}
    url = clients.sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
    arn = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    found.queues[name] = Queue(url, arn)
    found.resolver.refs[name] = url
    found.resolver.attributes.update({(name, "Arn"): arn, (name, "QueueName"): queue_name, (name, "QueueUrl"): url})


def _topic(clients: Clients, found: LocalResources, name: str, properties: dict[str, Any]) -> None:
    properties = found.resolver(properties)
    topic_name = properties.pop("TopicName", None) or f"{found.stack_name}-{name}"
    subscriptions = properties.pop("Subscription", [])
    properties.pop("Tags", None)
    if properties.get("FifoTopic") and not topic_name.endswith(".fifo"):
        topic_name += ".fifo"
    attributes = {key: _attribute_text(value) for key, value in properties.items()}
    arn = clients.sns.create_topic(Name=topic_name, Attributes=attributes)["TopicArn"]
    found.topics[name] = arn
    found.resolver.refs[name] = arn
    found.resolver.attributes.update({(name, "TopicArn"): arn, (name, "TopicName"): topic_name})
    for subscription in subscriptions:
        _subscribe(clients, found, name, {"TopicArn": arn, **subscription})


def _subscription(clients: Clients, found: LocalResources, name: str, properties: dict[str, Any]) -> None:
    _subscribe(clients, found, name, found.resolver(properties))


def _subscribe(clients: Clients, found: LocalResources, name: str, properties: dict[str, Any]) -> None:
    if properties["Protocol"] != "sqs":
        found.not_emulated.append(f"{name} ({properties['Protocol']} subscription)")
        return
    attributes = {
        key: _attribute_text(properties[key])
        for key in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "DeliveryPolicy")
        if key in properties
    }
    clients.sns.subscribe(
        TopicArn=properties["TopicArn"],
        Protocol="sqs",
        Endpoint=properties["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )


def _queue_policy(clients: Clients, found: LocalResources, name: str, properties: dict[str, Any]) -> None:
    properties = found.resolver(properties)
    for url in properties["Queues"]:
        clients.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(properties["PolicyDocument"])})


def _topic_policy(clients: Clients, found: LocalResources, name: str, properties: dict[str, Any]) -> None:
    properties = found.resolver(properties)
    for arn in properties["Topics"]:
        clients.sns.set_topic_attributes(
            TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(properties["PolicyDocument"])
        )


def _user_pool(clients: Clients, found: LocalResources, name: str, properties: dict[str, Any]) -> None:
    properties = found.resolver(properties)
    pool_name = properties.get("UserPoolName") or f"{found.stack_name}-{name}"
    arguments = {key: value for key, value in properties.items() if key in _USER_POOL_KEYS}
    if "UserPoolTags" in arguments:
        arguments["UserPoolTags"] = {str(k): str(v) for k, v in arguments["UserPoolTags"].items()}
    password_policy = arguments.get("Policies", {}).get("PasswordPolicy", {})
    for key in ("MinimumLength", "TemporaryPasswordValidityDays"):
        if key in password_policy:
            password_policy[key] = int(password_policy[key])
    pool = clients.cognito.create_user_pool(PoolName=pool_name, **arguments)["UserPool"]
    found.user_pools[name] = pool["Id"]
    found.resolver.refs[name] = pool["Id"]
    found.resolver.attributes.update(
        {
            (name, "Arn"): pool["Arn"],
            (name, "ProviderName"): f"cognito-idp.{found.region}.amazonaws.com/{pool['Id']}",
            (name, "ProviderURL"): f"https://cognito-idp.{found.region}.amazonaws.com/{pool['Id']}",
            (name, "UserPoolId"): pool["Id"],
        }
    )


def _user_pool_client(clients: Clients, found: LocalResources, name: str, properties: dict[str, Any]) -> None:
    properties = found.resolver(properties)
    arguments = {key: value for key, value in properties.items() if key in _USER_POOL_CLIENT_KEYS}
    # Locally, /_local/tokens signs sellers in with the admin flow instead of the portal's SRP:
    # the token is then issued by this very client, so its `aud` is the one the portal's would have.
    flows = list(arguments.get("ExplicitAuthFlows", []))
    if LOCAL_AUTH_FLOW not in flows:
        arguments["ExplicitAuthFlows"] = [*flows, LOCAL_AUTH_FLOW]
    client = clients.cognito.create_user_pool_client(UserPoolId=properties["UserPoolId"], **arguments)
    client_id = client["UserPoolClient"]["ClientId"]
    found.clients[name] = (properties["UserPoolId"], client_id)
    found.resolver.refs[name] = client_id
    found.resolver.attributes[(name, "ClientId")] = client_id


def _managed_policy(clients: Clients, found: LocalResources, name: str, properties: dict[str, Any]) -> None:
    properties = found.resolver(properties)
    document = properties["PolicyDocument"]
    arguments = {"Description": properties["Description"]} if "Description" in properties else {}
    policy = clients.iam.create_policy(
        PolicyName=properties.get("ManagedPolicyName") or f"{found.stack_name}-{name}",
        PolicyDocument=json.dumps(document),
        **arguments,
    )["Policy"]
    found.policies[name] = document
    found.resolver.refs[name] = policy["Arn"]


def _warehouse_principal(clients: Clients, found: LocalResources) -> Principal | None:
    """The warehouse system's IAM user, with every managed policy of the template that invokes the API."""
    invoking = {
        name: document
        for name, document in found.policies.items()
        if any("execute-api:Invoke" in json.dumps(statement.get("Action")) for statement in document["Statement"])
    }
    if not invoking:
        return None
    user_name = f"{found.stack_name}-warehouse"
    user = clients.iam.create_user(UserName=user_name)["User"]
    for name in invoking:
        clients.iam.attach_user_policy(UserName=user_name, PolicyArn=found.resolver.refs[name])
    key = clients.iam.create_access_key(UserName=user_name)["AccessKey"]
    return Principal(
        access_key_id=key["AccessKeyId"],
        secret_access_key=key["SecretAccessKey"],
        arn=user["Arn"],
        user_id=user["UserId"],
        account_id=found.account_id,
        policies=tuple(invoking.values()),
    )


def _attribute_text(value: Any) -> str:
    """SNS and SQS attributes are strings: JSON for documents, lower-case for booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)
