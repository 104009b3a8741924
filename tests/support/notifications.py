"""The notification side in moto: template.yaml's topic and queues, subscribers, and the stream delivered.

The topic, the queues and the warehouse's subscription are created from their definitions in
template.yaml, so a filter policy or attribute changed there is the one the tests exercise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

from infra.local.stream_poller import MappingSettings, StreamPoller
from infra.template import resources
from orders.domain import Event
from orders.models import to_order

NOTIFIER = "NotifierFunction"


@dataclass(frozen=True)
class Channels:
    topic_arn: str
    warehouse_queue_url: str
    failures_queue_url: str  # the notifier's on-failure destination


@dataclass(frozen=True)
class Delivery:
    """One SQS message as a subscriber reads it: the JSON body and the message attributes."""

    body: dict[str, Any]
    attributes: dict[str, tuple[str, str]]  # name -> (DataType, value)


def create_channels() -> Channels:
    """The topic, every queue and every subscription of template.yaml, as CloudFormation would make them."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    [(topic_id, topic)] = resources("AWS::SNS::Topic").items()
    topic_arn = sns.create_topic(Name=topic_id, Attributes=_attributes(topic.get("Properties", {})))["TopicArn"]
    queue_urls: dict[str, str] = {}
    # Dead-letter queues first: a queue's RedrivePolicy names one by its ARN.
    for name, queue in sorted(
        resources("AWS::SQS::Queue").items(), key=lambda item: "RedrivePolicy" in item[1]["Properties"]
    ):
        properties = dict(queue.get("Properties", {}))
        if "RedrivePolicy" in properties:
            [dead, _] = properties["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"]
            properties["RedrivePolicy"] = {
                **properties["RedrivePolicy"],
                "deadLetterTargetArn": queue_arn(queue_urls[dead]),
            }
        queue_urls[name] = sqs.create_queue(QueueName=name, Attributes=_attributes(properties))["QueueUrl"]
    for subscription in resources("AWS::SNS::Subscription").values():
        properties = dict(subscription["Properties"])
        assert properties.pop("TopicArn") == {"Ref": topic_id}
        [queue, attribute] = properties.pop("Endpoint")["Fn::GetAtt"]
        assert attribute == "Arn"
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol=properties.pop("Protocol"),
            Endpoint=queue_arn(queue_urls[queue]),
            Attributes=_attributes(properties),
        )
    [failures_queue, _] = notifier_mapping()["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"]
    return Channels(topic_arn, queue_urls["WarehouseQueue"], queue_urls[failures_queue])


def notifier_mapping() -> dict[str, Any]:
    """The properties of the notifier's DynamoDB stream event, as written in template.yaml."""
    events = resources("AWS::Serverless::Function")[NOTIFIER]["Properties"]["Events"]
    [properties] = [event["Properties"] for event in events.values() if event["Type"] == "DynamoDB"]
    return properties


def subscribe_queue(topic_arn: str, name: str, filter_policy: dict[str, list[str]] | None = None) -> str:
    """A new queue subscribed to the topic with raw delivery (and the filter policy, if any); its URL."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    attributes = {"RawMessageDelivery": "true"}
    if filter_policy is not None:
        attributes |= {"FilterPolicyScope": "MessageAttributes", "FilterPolicy": json.dumps(filter_policy)}
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn(url), Attributes=attributes)
    return url


def received(queue_url: str) -> list[Delivery]:
    """Every message now in the queue, oldest first, deleted as read."""
    sqs = boto3.client("sqs")
    deliveries = []
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", []):
        for message in messages:
            attributes = {
                name: (value["DataType"], value["StringValue"])
                for name, value in message.get("MessageAttributes", {}).items()
            }
            deliveries.append(Delivery(json.loads(message["Body"]), attributes))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return deliveries


def expected_delivery(order: dict[str, Any], event: Event) -> Delivery:
    """What docs/api.md §4 says a subscriber receives for the write that left `order` (the store's returned item)."""
    public = to_order(order)
    body = {
        "event_id": f"{public.order_id}:{public.version}",
        "event_type": event.value,
        "occurred_at": order["updated_at"],
        "order_id": public.order_id,
        "seller_id": public.seller_id,
        "reference": public.reference,
        "order_version": public.version,
        "status": public.status.value,
        "cancellation": public.cancellation.model_dump(mode="json"),
    }
    # docs/api.md §11: the backorder's lines, and the order a split made.
    if event == Event.ORDER_BACKORDERED:
        body["backorder"] = public.backorder.model_dump(mode="json") if public.backorder else None
    if event == Event.ORDER_SPLIT:
        body["in_stock_order_id"] = public.split_into[-1]
    return Delivery(body, {"event_type": ("String", event.value), "seller_id": ("String", public.seller_id)})


def stream_poller(
    channels: Channels, handler: Callable[[dict, Any], dict | None], settings: MappingSettings | None = None
) -> StreamPoller:
    """The table's stream delivered to `handler` as the notifier's event source mapping would."""
    return StreamPoller(
        dynamodb_client=boto3.client("dynamodb"),
        streams_client=boto3.client("dynamodbstreams"),
        table_name=_table_name(),
        handler=handler,
        sqs_client=boto3.client("sqs"),
        on_failure_queue_url=channels.failures_queue_url,
        settings=settings,
    )


def queue_arn(url: str) -> str:
    return boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _table_name() -> str:
    from orders.settings import settings

    return settings().table_name


def _attributes(properties: dict[str, Any]) -> dict[str, str]:
    """CloudFormation properties as the string attributes of the Create/Subscribe APIs."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value) if isinstance(value, dict | list) else str(value)

    return {name: text(value) for name, value in properties.items()}
