"""template.yaml is the single source of routes, handlers and permissions: hold the code to it."""

from __future__ import annotations

import pytest

from infra.template import handlers, parameter_error, resources, routes, schedules, table_definition, template
from tests.support.fresh import import_alone

ROUTE_LISTING = """
import json, importlib, sys
importlib.import_module(sys.argv[1])
from orders.api import app
paths = app.get_openapi_schema().paths
methods = ("get", "post", "patch", "delete")
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
    assert _actions("WarehouseReadFunction") == {"dynamodb:GetItem", "dynamodb:Query"}
    assert _actions("EscalationFunction") == {"dynamodb:Query", "dynamodb:UpdateItem"}
    assert _actions("NotificationsFeedFunction") == {"dynamodb:Query"}
    assert _actions("NotificationChannelsFunction") == {
        "dynamodb:Query",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "sns:Publish",
    }
    assert _actions("DeliveryFunction") == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:Query",
        "sqs:ChangeMessageVisibility",
        "sqs:SendMessage",
    }
    for command in (
        "CancelOrderFunction",
        "RequestCancellationFunction",
        "WarehouseDecisionFunction",
        "WarehouseStatusFunction",
    ):
        assert _actions(command) == {"dynamodb:UpdateItem"}
    # docs/api.md §13: a batch read, then the single commands' writes.
    for command in ("BulkCancellationFunction", "WarehouseBulkDecisionFunction"):
        assert _actions(command) == {"dynamodb:BatchGetItem", "dynamodb:UpdateItem"}


def test_the_tables_are_protected_and_the_orders_table_streams_both_images():
    tables = resources("AWS::DynamoDB::Table")
    assert set(tables) == {"OrdersTable", "NotificationsTable", "TrackingTable"}
    for table in tables.values():
        properties = table["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["SSESpecification"] == {"SSEEnabled": True}
        assert table["DeletionPolicy"] == "Retain"
    assert tables["OrdersTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    # The feed expires (90 days); nothing reads the notifications table's changes.
    notifications = tables["NotificationsTable"]["Properties"]
    assert notifications["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "StreamSpecification" not in notifications
    # The tracking timeline tells nobody either: the order's own write carries a courier status change.
    assert "StreamSpecification" not in tables["TrackingTable"]["Properties"]


def test_the_delivery_queue_takes_every_event_encrypted_with_a_dead_letter_queue_and_its_alarm():
    subscription = resources("AWS::SNS::Subscription")["DeliverySubscription"]["Properties"]
    assert "FilterPolicy" not in subscription and subscription["RawMessageDelivery"] is True
    queues = resources("AWS::SQS::Queue")
    assert all(queue["Properties"]["SqsManagedSseEnabled"] for queue in queues.values())
    delivery = queues["DeliveryQueue"]["Properties"]
    assert delivery["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeliveryDeadLetterQueue", "Arn"]}
    function = resources("AWS::Serverless::Function")["DeliveryFunction"]["Properties"]
    assert delivery["VisibilityTimeout"] >= 6 * function["Timeout"]
    [event] = function["Events"].values()
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    delays = [int(d) for d in template()["Parameters"]["DeliveryRetryDelaysSeconds"]["Default"].split(",")]
    assert delays[0] <= 60 and sum(delays[:-1]) >= 24 * 3600 and max(delays) <= 43200
    assert delivery["MessageRetentionPeriod"] > sum(delays)
    alarm = resources("AWS::CloudWatch::Alarm")["DeliveryDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["DeliveryDeadLetterQueue", "QueueName"]}


def test_every_function_has_a_log_group_with_retention():
    groups = resources("AWS::Logs::LogGroup").values()
    named = {group["Properties"]["LogGroupName"]["Fn::Sub"] for group in groups}
    assert named == {f"/aws/lambda/${{{function}}}" for function in handlers()}
    assert all("RetentionInDays" in group["Properties"] for group in groups)


def _query_resources(function: str) -> set[str]:
    """The index ARNs (as `${OrdersTable.Arn}/index/<name>` templates) a function may Query."""
    found = set()
    for policy in resources("AWS::Serverless::Function")[function]["Properties"]["Policies"]:
        for statement in policy["Statement"]:
            if statement["Action"] == "dynamodb:Query":
                listed = statement["Resource"]
                found.update(item["Fn::Sub"] for item in (listed if isinstance(listed, list) else [listed]))
    return found


def test_each_reader_may_query_exactly_the_indexes_its_store_calls_use():
    from orders import store

    def index(name: str) -> str:
        return f"${{OrdersTable.Arn}}/index/{name}"

    indexes = {definition["IndexName"] for definition in table_definition("t")["GlobalSecondaryIndexes"]}
    assert indexes == {store.SELLER_INDEX, store.STATUS_INDEX, store.QUEUE_INDEX, store.ESCALATION_INDEX}
    assert _query_resources("ReadOrdersFunction") == {index(store.SELLER_INDEX), index(store.STATUS_INDEX)}
    assert _query_resources("WarehouseReadFunction") == {index(store.QUEUE_INDEX)}
    assert _query_resources("EscalationFunction") == {index(store.ESCALATION_INDEX), index(store.QUEUE_INDEX)}


def test_the_queue_indexes_are_sparse_on_attributes_only_a_pending_request_has():
    from orders import item as order_item

    definitions = {d["IndexName"]: d for d in table_definition("t")["GlobalSecondaryIndexes"]}
    assert [k["AttributeName"] for k in definitions["pending-requests"]["KeySchema"]] == [
        order_item.QUEUE,
        order_item.QUEUE_DUE,
    ]
    assert [k["AttributeName"] for k in definitions["escalation-due"]["KeySchema"]] == [
        order_item.QUEUE,
        order_item.ESCALATION_DUE,
    ]
    assert definitions["escalation-due"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_the_lists_indexes_project_what_a_list_shows_and_no_key_is_shared_by_every_seller_but_the_warehouses():
    from orders import item as order_item
    from orders import store

    definitions = {d["IndexName"]: d for d in table_definition("t")["GlobalSecondaryIndexes"]}
    for name in (store.SELLER_INDEX, store.STATUS_INDEX, store.QUEUE_INDEX):
        projection = definitions[name]["Projection"]
        keys = {key["AttributeName"] for key in definitions[name]["KeySchema"]}
        # What a page shows (models.to_summary reads item.LISTED), and nothing more: not the history
        assert projection["ProjectionType"] == "INCLUDE", name
        assert keys | set(projection["NonKeyAttributes"]) | {"order_id"} == set(order_item.LISTED) | keys, name
        assert order_item.HISTORY not in projection["NonKeyAttributes"]
    partition_keys = {name: definitions[name]["KeySchema"][0]["AttributeName"] for name in definitions}
    assert partition_keys == {
        store.SELLER_INDEX: order_item.SELLER,
        store.STATUS_INDEX: order_item.SELLER_STATUS,
        store.QUEUE_INDEX: order_item.QUEUE,  # the warehouse's constant key: its ceiling is in the README
        store.ESCALATION_INDEX: order_item.QUEUE,
    }


def test_the_sweep_runs_every_five_minutes_its_alarm_watches_its_metric_and_the_warehouse_hears_of_it():
    [schedule] = schedules()
    assert (schedule.function, schedule.expression, schedule.rate_seconds) == (
        "EscalationFunction",
        "rate(5 minutes)",
        300,
    )
    alarm = resources("AWS::CloudWatch::Alarm")["OverdueCancellationRequestsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("OrderCancellations", "OverdueCancellationRequests")
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0
    policy = resources("AWS::SNS::Subscription")["WarehouseSubscription"]["Properties"]["FilterPolicy"]
    assert policy == {"event_type": ["CANCELLATION_REQUESTED", "CANCELLATION_REQUEST_OVERDUE"]}
    environment = resources("AWS::Serverless::Function")["RequestCancellationFunction"]["Properties"]["Environment"]
    assert environment["Variables"]["CANCELLATION_REQUEST_SLA_SECONDS"] == {"Ref": "CancellationRequestSlaSeconds"}
    assert template()["Parameters"]["CancellationRequestSlaSeconds"]["Default"] == "7200"


@pytest.mark.parametrize(
    "name, value, refused",
    [
        ("CancellationRequestSlaSeconds", "5", None),
        ("CancellationRequestSlaSeconds", "0", "must match"),
        ("CancellationRequestSlaSeconds", "1.5", "must match"),
        ("CancellationRequestSlaSeconds", "5 ", "must match"),
        ("LogRetentionDays", "8", "must be one of"),
        ("LogRetentionDays", "14", None),
        ("NoSuchParameter", "1", "has no parameter"),
    ],
)
def test_a_parameter_override_is_checked_as_cloudformation_would(name, value, refused):
    reason = parameter_error(name, value)
    assert (reason is None) if refused is None else (refused in reason)
