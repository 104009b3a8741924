"""events/: one sample event per function, for `sam local invoke <Function> -e events/<file>.json`.

The API events are built by the local stack's own API Gateway emulation (infra.local.gateway),
for the demo seller S-1 and the deployed stage, so they have the shape the handlers get in AWS.
The notifier's is a DynamoDB stream batch of one real change (a cancellation request), read
from moto's stream and shaped as the event source mapping sends it (infra.local.stream_poller).
Fixed ids and times keep the files stable; `python -m infra.generate.sample_events` writes them again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from unittest import mock

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from infra import template
from infra.local.auth import api_gateway_claims
from infra.local.gateway import ProxyEvents
from infra.local.resources import Principal

EVENTS = template.ROOT / "events"
SELLER = "S-1"
REFERENCE = "SHOP-2001"
ACCOUNT = "123456789012"
API_ID = "a1b2c3d4e5"
POOL = "eu-west-2_AbCdEfGhI"
HOST = f"{API_ID}.execute-api.eu-west-2.amazonaws.com"
EPOCH = 1_795_680_000  # 2026-11-26T08:00:00Z
WAREHOUSE = Principal(
    access_key_id="AKIAIOSFODNN7EXAMPLE",
    secret_access_key="",
    arn=f"arn:aws:iam::{ACCOUNT}:user/order-cancellations-warehouse",
    user_id="AIDAJQABLZS4A3QDU576Q",
    account_id=ACCOUNT,
    policies=(),
)


def order_id() -> str:
    from orders.item import order_id_for

    return order_id_for(SELLER, REFERENCE)


def seller_claims() -> dict[str, str]:
    claims = {
        "sub": "7d8ca528-4931-4254-9273-ea5ee853f271",
        "aud": "4a7216d43d7c439da7dad542cc",
        "email_verified": True,
        "token_use": "id",
        "auth_time": EPOCH,
        "iss": f"https://cognito-idp.eu-west-2.amazonaws.com/{POOL}",
        "cognito:username": "7d8ca528-4931-4254-9273-ea5ee853f271",
        "exp": EPOCH + 3600,
        "iat": EPOCH,
        "email": "s-1@seller.example",
        "custom:seller_id": SELLER,
    }
    return api_gateway_claims(claims)


def api_samples() -> dict[str, tuple[str, str, str, Any]]:
    """File name -> (function, method, path, body)."""
    oid = order_id()
    new_order = {
        "reference": REFERENCE,
        "items": [{"sku": "TSHIRT-RED-M", "quantity": 2}],
        "recipient": {
            "name": "Ada Lovelace",
            "address_line1": "12 St James's Square",
            "city": "London",
            "postcode": "SW1Y 4JH",
            "country": "GB",
        },
        "courier_service": "ROYAL_MAIL_48",
    }
    return {
        "create_order": ("CreateOrderFunction", "POST", "/orders", new_order),
        "list_orders": ("ReadOrdersFunction", "GET", "/orders?status=PENDING&limit=10", None),
        "get_order": ("ReadOrdersFunction", "GET", f"/orders/{oid}", None),
        "cancel_order": ("CancelOrderFunction", "POST", f"/orders/{oid}/cancel", None),
        "edit_order": ("EditOrderFunction", "PATCH", f"/orders/{oid}", {"courier_service": "DPD_NEXT_DAY"}),
        "request_cancellation": (
            "RequestCancellationFunction",
            "POST",
            f"/orders/{oid}/cancellation-request",
            {"reason_code": "CUSTOMER_REQUEST", "note": "Ordered the wrong size"},
        ),
        "warehouse_status": (
            "WarehouseStatusFunction",
            "POST",
            f"/warehouse/orders/{oid}/status",
            {"status": "SENT_TO_WAREHOUSE"},
        ),
        "warehouse_backorder": (
            "WarehouseStatusFunction",
            "POST",
            f"/warehouse/orders/{oid}/status",
            {
                "status": "ON_BACKORDER",
                "backordered_items": [{"line": 1, "sku": "TSHIRT-RED-M", "quantity": 1}],
                "expected_at": "2026-12-24",
            },
        ),
        "split_order": ("SplitOrderFunction", "POST", f"/orders/{oid}/split", None),
        "warehouse_decision": (
            "WarehouseDecisionFunction",
            "POST",
            f"/warehouse/orders/{oid}/cancellation-decision",
            {"decision": "REJECTED", "reason_code": "ALREADY_PACKED", "note": "In the courier's cage"},
        ),
        "warehouse_get_order": ("WarehouseReadFunction", "GET", f"/warehouse/orders/{oid}", None),
        "cancellation_requests": (
            "WarehouseReadFunction",
            "GET",
            "/warehouse/cancellation-requests?overdue=true",
            None,
        ),
        "create_channel": (
            "NotificationChannelsFunction",
            "POST",
            "/notification-channels",
            {"url": "https://hooks.example.com/orders", "description": "Our order system"},
        ),
        "list_channels": ("NotificationChannelsFunction", "GET", "/notification-channels", None),
        "list_notifications": ("NotificationsFeedFunction", "GET", "/notifications?limit=10", None),
        "bulk_cancellations": (
            "BulkCancellationFunction",
            "POST",
            "/bulk-cancellations",
            {"order_ids": [oid], "if_in_warehouse": "REQUEST", "reason_code": "FRAUD_SUSPECTED", "dry_run": True},
        ),
        "warehouse_decisions": (
            "WarehouseBulkDecisionFunction",
            "POST",
            "/warehouse/cancellation-decisions",
            {"decisions": [{"order_id": oid, "decision": "APPROVED"}]},
        ),
        "tracking_events": (
            "TrackingEventsFunction",
            "POST",
            f"/warehouse/orders/{oid}/tracking-events",
            {
                "events": [
                    {
                        "event_id": "RM-0001",
                        "status": "IN_TRANSIT",
                        "occurred_at": "2026-11-26T09:15:00Z",
                        "location": "Leeds Mail Centre",
                        "description": "Item received at the mail centre",
                    }
                ]
            },
        ),
        "get_tracking": ("ReadTrackingFunction", "GET", f"/orders/{oid}/tracking", None),
        "courier_services": ("CourierCatalogueFunction", "GET", "/courier-services", None),
        "courier_statuses": ("CourierCatalogueFunction", "GET", "/courier-statuses", None),
    }


def queue_samples() -> dict[str, tuple[str, dict[str, Any]]]:
    """File name -> (function, an SQS batch of one event as the event source mapping delivers it)."""
    oid = order_id()
    body = {
        "event_id": f"{oid}:3",
        "event_type": "CANCELLATION_REQUESTED",
        "occurred_at": "2026-11-26T08:00:00.000000Z",
        "order_id": oid,
        "seller_id": SELLER,
        "reference": REFERENCE,
        "order_version": 3,
        "status": "SENT_TO_WAREHOUSE",
        "cancellation": {"option": "NONE", "unavailable_reason": "CANCELLATION_PENDING", "request": None},
    }
    samples = {}
    for subscription in template.queue_subscriptions():
        [queue, _] = subscription.properties["Queue"]["Fn::GetAtt"]
        record = {
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": json.dumps(body),
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": str(EPOCH * 1000),
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": str(EPOCH * 1000 + 20),
            },
            "messageAttributes": {
                name: {"stringValue": value, "stringListValues": [], "binaryListValues": [], "dataType": "String"}
                for name, value in (("event_type", body["event_type"]), ("seller_id", SELLER))
            },
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:eu-west-2:{ACCOUNT}:order-cancellations-{queue}",
            "awsRegion": "eu-west-2",
        }
        samples["delivery_queue" if queue == "DeliveryQueue" else queue.lower()] = (
            subscription.function,
            {"Records": [record]},
        )
    return samples


def schedule_samples() -> dict[str, tuple[str, dict[str, Any]]]:
    """File name -> (function, the event EventBridge sends it), for each function's Schedule event."""
    samples = {}
    for schedule in template.schedules():
        rule = f"order-cancellations-{schedule.function}-{schedule.event}"
        event = {
            "version": "0",
            "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": "2026-11-26T08:00:00Z",
            "region": "eu-west-2",
            "resources": [f"arn:aws:events:eu-west-2:{ACCOUNT}:rule/{rule}"],
            "detail": {},
        }
        samples[f"{schedule.event.lower()}_schedule"] = (
            schedule.function,
            event,
        )
    return samples


def api_event(function: str, method: str, target: str, body: Any) -> dict[str, Any]:
    path, _, query = target.partition("?")
    [route] = [r for r in template.routes() if r.function == function and r.method == method and _fits(r.path, path)]
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Host": HOST, "User-Agent": "Mozilla/5.0 (seller portal)", "Accept": "application/json"}
    if route.authorizer == "AWS_IAM":
        headers = {"Host": HOST, "User-Agent": "warehouse-system/1.0", "X-Amz-Date": "20261126T080000Z"}
    else:
        headers["Authorization"] = "eyJraWQiOi...(the seller's ID token)"
        headers["Origin"] = "https://portal.example.com"
    if data:
        headers["Content-Type"] = "application/json"
    if method == "PATCH":
        headers["If-Match"] = '"1"'  # the ETag of the order as the portal read it
    environ = EnvironBuilder(
        path=path,
        query_string=query,
        method=method,
        headers=list(headers.items()),
        data=data,
        environ_overrides={"REMOTE_ADDR": "203.0.113.10", "SERVER_PORT": "443", "RAW_URI": target},
    ).get_environ()
    stage = template.parameters().get("StageName", "v1")
    events = ProxyEvents(account_id=ACCOUNT, api_id=API_ID, stage=stage)
    claims, principal = (None, WAREHOUSE) if route.authorizer == "AWS_IAM" else (seller_claims(), None)
    event = events.event(Request(environ), route, data, claims=claims, principal=principal)
    return _deployed(event, stage)


def _fits(pattern: str, path: str) -> bool:
    from infra.local.gateway import _Resource

    return _Resource.of(pattern, []).pattern.fullmatch(path) is not None


def _deployed(event: dict[str, Any], stage: str) -> dict[str, Any]:
    """What differs behind the deployed stage: the stage in the path, HTTPS, fixed ids and times."""
    context = event["requestContext"]
    context.update(
        path=f"/{stage}{event['path']}",
        requestId="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        extendedRequestId="Xk2f6GdpLPEFQ3g=",
        requestTime="26/Nov/2026:08:00:00 +0000",
        requestTimeEpoch=EPOCH * 1000,
        protocol="HTTP/1.1",
    )
    for headers in (event["headers"], event["multiValueHeaders"]):
        for name, value in {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Port": "443",
            "X-Forwarded-For": "203.0.113.10",
            "X-Amzn-Trace-Id": "Root=1-6926b380-4d3b2a6c0c3f4b1e8a7d9e0f",
        }.items():
            headers[name] = value if headers is event["headers"] else [value]
    return event


def stream_event() -> dict[str, Any]:
    """A DynamoDB stream batch of one record: a seller's cancellation request on S-1's order."""
    import boto3
    from moto import mock_aws

    from infra.local.stream_poller import _lambda_record
    from orders.domain import WAREHOUSE as WAREHOUSE_CALLER
    from orders.domain import Action, Details, Seller
    from orders.store import OrderStore

    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-2")
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"  # else moto cannot answer the streams calls
    times = iter(f"2026-11-26T08:00:0{second}.000000Z" for second in range(10))
    with mock_aws(), mock.patch("orders.store.now", lambda: next(times)):
        dynamodb = boto3.client("dynamodb", region_name="eu-west-2")
        table = dynamodb.create_table(**template.table_definition("orders"))["TableDescription"]
        store = OrderStore("orders", dynamodb)
        store.create(SELLER, api_samples()["create_order"][3])
        store.apply(order_id(), Action.move_to(_status("SENT_TO_WAREHOUSE")), WAREHOUSE_CALLER)
        store.apply(order_id(), Action.REQUEST_CANCELLATION, Seller(SELLER), Details(reason_code="CUSTOMER_REQUEST"))
        streams = boto3.client("dynamodbstreams", region_name="eu-west-2")
        arn = table["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    record = _lambda_record(arn.replace(arn.rsplit("/", 1)[1], "2026-11-26T08:00:00.000"), records[-1])
    record["eventID"] = "c81e728d9d4c2f636f067f89cc14862c"
    record["dynamodb"]["SequenceNumber"] = "000000000000000000003"
    record["dynamodb"]["ApproximateCreationDateTime"] = EPOCH
    images = {name: record["dynamodb"].get(name) for name in ("Keys", "NewImage", "OldImage")}
    record["dynamodb"]["SizeBytes"] = len(json.dumps(images, sort_keys=True))
    return {"Records": [record]}


def _status(name: str) -> Any:
    from orders.domain import OrderStatus

    return OrderStatus(name)


def environment() -> dict[str, dict[str, str]]:
    """--env-vars for `sam local invoke` against a running `make run` (its moto, from inside Docker)."""
    endpoint = "http://host.docker.internal:5000"
    shared = {
        "TABLE_NAME": "orders-local-OrdersTable",
        "NOTIFICATIONS_TABLE_NAME": "orders-local-NotificationsTable",
        "TRACKING_TABLE_NAME": "orders-local-TrackingTable",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    variables = {function: dict(shared) for function in template.handlers()}
    for function, values in variables.items():
        if "TOPIC_ARN" in template.function_environment(function):
            values["TOPIC_ARN"] = f"arn:aws:sns:eu-west-2:{ACCOUNT}:orders-local-OrderEventsTopic"
        if "DELIVERY_QUEUE_URL" in template.function_environment(function):
            queues = f"{endpoint}/{ACCOUNT}/orders-local-"
            values["DELIVERY_QUEUE_URL"] = f"{queues}DeliveryQueue"
            values["DELIVERY_DEAD_LETTER_QUEUE_URL"] = f"{queues}DeliveryDeadLetterQueue"
    return variables


def write() -> list[Path]:
    EVENTS.mkdir(exist_ok=True)
    files = {name: api_event(*sample) for name, sample in api_samples().items()}
    if template.stream_subscriptions():
        files["notifier_stream"] = stream_event()
    files.update({name: event for name, (_, event) in schedule_samples().items()})
    files.update({name: event for name, (_, event) in queue_samples().items()})
    files["env.local"] = environment()
    written = []
    for name, content in files.items():
        path = EVENTS / f"{name}.json"
        path.write_text(json.dumps(content, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(path.relative_to(template.ROOT))
