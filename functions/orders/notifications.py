"""Stream image -> event -> SNS message: what a seller or the warehouse is told of a change (docs/api.md §4).

A record of the orders table's stream carries exactly one write. The store's every change
adds one to `version` and appends one history entry in that same write, so the new image's
last history entry names the change, and `<order_id>:<version>` identifies it for good: a
redelivered record gives the same event, with the same `event_id`. Only the events of
`domain.NOTIFIED_EVENTS` are told; every other record (a new order, a plain status move,
anything not written by the store's rules) tells nobody and gives None.

Pure: no AWS here but the client that `publish` is handed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ConfigDict

from orders import stored
from orders.domain import NOTIFIED_EVENTS, Event
from orders.dynamodb_json import from_item
from orders.models import Notification


class OrderEvent(Notification):
    """One notification: the JSON body of the SNS message, field for field as docs/api.md §4 lists it."""

    model_config = ConfigDict(frozen=True)


def event_for_change(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> OrderEvent | None:
    """The event a write from `old` to `new` (stored items; None where there is none) tells, if any."""
    if new is None or not stored.is_one_change(old, new):
        return None
    change = stored.last_change(new)
    event_type = Event(change["event"])
    if event_type not in NOTIFIED_EVENTS:
        return None
    order = stored.to_order(dict(new))
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
    )


def event_for_record(record: Mapping[str, Any]) -> OrderEvent | None:
    """The event a stream record (as Lambda hands it over) tells, from its old and new images alone."""
    if record.get("eventName") == "REMOVE":
        return None
    images = record.get("dynamodb") or {}
    return event_for_change(from_item(images.get("OldImage")), from_item(images.get("NewImage")))


def sns_message(event: OrderEvent) -> dict[str, Any]:
    """The Publish arguments for `event`, but the topic: the JSON body and the attributes subscribers filter on."""
    return {
        "Message": event.model_dump_json(),
        "MessageAttributes": {
            "event_type": {"DataType": "String", "StringValue": event.event_type.value},
            "seller_id": {"DataType": "String", "StringValue": event.seller_id},
        },
    }


def publish(client: Any, topic_arn: str, event: OrderEvent) -> str:
    """Publish `event` to the topic with `client` (an SNS client); the message id SNS gave it."""
    return client.publish(TopicArn=topic_arn, **sns_message(event))["MessageId"]
