"""The events sellers and the warehouse are told (docs/api.md §4), and the SNS message that carries each.

A record of the orders table's stream carries exactly one write. The store's every change
adds one to `version` and appends one history entry in that same write, so the new image's
last history entry names the change, and `<order_id>:<version>` identifies it for good: a
redelivered record gives the same event, with the same `event_id`. Only the events of
`domain.NOTIFIED_EVENTS` are told (`domain.told`: a move to ON_BACKORDER is ORDER_BACKORDERED);
every other record (a new order, a split-off order's creation among them, a plain status move,
anything not written by the store's rules) tells nobody and gives None.

A `TEST` event (POST /notification-channels/{id}/test) names one channel and goes through the same
topic, queue and delivery as every other event; `sns_message` builds the message of both.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ConfigDict

from orders import item
from orders.domain import Event, told
from orders.dynamodb import from_item, now
from orders.models import to_order
from orders.notification.models import Notification

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef

TEST = "TEST"


class OrderEvent(Notification):
    """One notification: the JSON body of the SNS message, field for field as docs/api.md §4 lists it."""

    model_config = ConfigDict(frozen=True)


@dataclass(frozen=True)
class TestEvent:
    """A signed TEST delivery to one channel, to check a receiver; it is in no feed."""

    event_id: str
    occurred_at: str
    seller_id: str
    channel_id: str
    event_type: str = TEST

    def as_json(self) -> dict[str, str]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at,
            "seller_id": self.seller_id,
            "channel_id": self.channel_id,
        }


class PublishFailed(Exception):
    """SNS did not take the message: nothing was sent."""


def event_for_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> OrderEvent | None:
    """The event a write from `old` to `new` (stored items; None where there is none) tells, if any."""
    if new is None:
        return None
    before = item.read(dict(old)) if old is not None else None
    after = item.read(dict(new))
    if not item.is_one_change(before, after):
        return None
    change = item.last_change(after)
    event_type = told(change["event"], change.get("to_status"))
    if event_type is None:
        return None
    order = to_order(after)
    return OrderEvent(
        event_id=f"{order.order_id}:{order.version}",
        event_type=event_type,
        occurred_at=change["at"],
        order_id=order.order_id,
        seller_id=order.seller_id,
        reference=order.reference,
        order_version=order.version,
        status=order.status,
        cancellation=order.cancellation,
        courier_status=order.courier_status if event_type == Event.COURIER_STATUS_CHANGED else None,
        backorder=order.backorder if event_type == Event.ORDER_BACKORDERED else None,
        in_stock_order_id=change.get(item.SPLIT_INTO) if event_type == Event.ORDER_SPLIT else None,
    )


def event_for_record(record: Mapping[str, Any]) -> OrderEvent | None:
    """The event a stream record (as Lambda hands it over) tells, from its old and new images alone."""
    if record.get("eventName") == "REMOVE":
        return None
    images = record.get("dynamodb") or {}
    return event_for_change(from_item(images.get("OldImage")), from_item(images.get("NewImage")))


def test_event(seller_id: str, channel_id: str) -> TestEvent:
    return TestEvent(
        event_id=f"test_{secrets.token_hex(13)}", occurred_at=now(), seller_id=seller_id, channel_id=channel_id
    )


def sns_message(event: OrderEvent | TestEvent) -> dict[str, Any]:
    """The Publish arguments for `event`, but the topic: the JSON body and the attributes subscribers filter on."""
    if isinstance(event, OrderEvent):
        body, event_type = event.model_dump_json(), event.event_type.value
    else:
        body, event_type = json.dumps(event.as_json(), separators=(",", ":")), event.event_type
    attributes: dict[str, MessageAttributeValueTypeDef] = {
        "event_type": {"DataType": "String", "StringValue": event_type},
        "seller_id": {"DataType": "String", "StringValue": event.seller_id},
    }
    return {"Message": body, "MessageAttributes": attributes}


def publish(client: SNSClient, topic_arn: str, event: OrderEvent | TestEvent) -> str:
    """Publish `event` to the topic with `client`; the message id SNS gave it. PublishFailed when SNS refused."""
    try:
        return client.publish(TopicArn=topic_arn, **sns_message(event))["MessageId"]
    except (BotoCoreError, ClientError) as error:
        raise PublishFailed(str(error)) from error
