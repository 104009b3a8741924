"""orders.notification.events with plain values: stored items in, the event of docs/api.md §4 (or nothing) out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from orders import domain
from orders.domain import NOTIFIED_EVENTS, Action, Event, OrderStatus, RequestStatus, State, Transition
from orders.notification.events import event_for_change, event_for_record, publish, sns_message
from tests.support.api import NEW_ORDER

ORDER_ID = "ord_abcdefghijklmnopqrstuvwxyz"
CREATED_AT = "2026-11-26T10:00:00.000000Z"
BODY_FIELDS = [
    "event_id",
    "event_type",
    "occurred_at",
    "order_id",
    "seller_id",
    "reference",
    "order_version",
    "status",
    "cancellation",
]


def item_in(state: State, *, version: int = 4) -> dict[str, Any]:
    """A stored item in `state`, shaped as orders.store writes it."""
    history = [{"at": CREATED_AT, "event": "ORDER_CREATED", "by": "seller:S-1", "to_status": "PENDING"}]
    history += [
        {
            "at": f"2026-11-26T10:0{n}:00.000000Z",
            "event": "STATUS_CHANGED",
            "by": "warehouse",
            "to_status": state.status.value,
        }
        for n in range(1, version)
    ]
    item = {
        "order_id": ORDER_ID,
        "seller_id": "S-1",
        "reference": "SHOP-1001",
        **NEW_ORDER,
        "status": state.status.value,
        "tracking_number": None,
        "created_at": CREATED_AT,
        "updated_at": history[-1]["at"],
        "version": version,
        "history": history,
    }
    if state.request:
        item["cancellation_request"] = {
            "status": state.request.value,
            "reason_code": "CUSTOMER_REQUEST",
            "note": None,
            "requested_at": history[-1]["at"],
            "decision_reason_code": None if state.request == RequestStatus.REQUESTED else "ALREADY_PACKED",
            "decision_note": None,
            "decided_at": None if state.request == RequestStatus.REQUESTED else history[-1]["at"],
        }
    return item


def after(old: dict[str, Any], transition: Transition, at: str = "2026-11-26T11:00:00.000000Z") -> dict[str, Any]:
    """The item the store writes for `transition` from `old`: one version and one history entry more."""
    state = transition.apply(domain.State(OrderStatus(old["status"]), _request_of(old)))
    entry = {"at": at, "event": transition.event.value, "by": "warehouse"}
    if transition.status:
        entry["to_status"] = transition.status.value
    new = {**old, "status": state.status.value, "version": old["version"] + 1, "updated_at": at}
    new["history"] = [*old["history"], entry]
    if transition.request == RequestStatus.REQUESTED:
        new["cancellation_request"] = {
            "status": "REQUESTED",
            "reason_code": "CUSTOMER_REQUEST",
            "note": "Bought twice",
            "requested_at": at,
            "due_at": "2026-11-26T13:00:00.000000Z",
            "escalated_at": None,
            "decision_reason_code": None,
            "decision_note": None,
            "decided_at": None,
        }
    elif transition.request:
        new["cancellation_request"] = {
            **old["cancellation_request"],
            "status": transition.request.value,
            "decision_reason_code": transition.decision_reason.value
            if transition.decision_reason
            else "ALREADY_PACKED",
            "decided_at": at,
        }
    return new


def _request_of(item: dict[str, Any]) -> RequestStatus | None:
    request = item.get("cancellation_request")
    return RequestStatus(request["status"]) if request else None


# Sorted: ALL_STATES comes from a set, and every xdist worker must collect the same tests.
TRANSITIONS = [
    pytest.param(state, action, outcome, id=f"{state}-{action}")
    for state in sorted(domain.ALL_STATES, key=str)
    for action in Action
    if isinstance(outcome := domain.decide(state, action), Transition)
]


@pytest.mark.parametrize("state, action, transition", TRANSITIONS)
def test_every_transition_of_the_rules_is_told_exactly_when_it_is_one_of_the_four_events(state, action, transition):
    old = item_in(state)
    new = after(old, transition)

    event = event_for_change(old, new)

    told = domain.told(transition.event, transition.status)
    if told is None:
        assert event is None
        return
    new_state = transition.apply(state)
    assert told in NOTIFIED_EVENTS
    assert event.event_type == told
    assert event.event_id == f"{ORDER_ID}:5"
    assert event.order_version == 5
    assert event.occurred_at == "2026-11-26T11:00:00.000000Z"
    assert event.status == new_state.status
    assert (event.cancellation.request and event.cancellation.request.status) == new_state.request
    assert (event.cancellation.option, event.cancellation.unavailable_reason) == domain.cancellation_option(new_state)


def test_the_despatch_that_rejects_a_pending_request_is_told_as_a_rejection_by_despatch():
    old = item_in(State(OrderStatus.PACKED, RequestStatus.REQUESTED))
    new = after(old, domain.decide(State(OrderStatus.PACKED, RequestStatus.REQUESTED), Action.MOVE_TO_DESPATCHED))

    event = event_for_change(old, new)

    assert event.event_type == Event.CANCELLATION_REJECTED
    assert event.status == OrderStatus.DESPATCHED
    assert event.cancellation.option == domain.CancellationOption.NONE
    assert event.cancellation.unavailable_reason == domain.Refusal.ORDER_DESPATCHED
    assert event.cancellation.request.status == RequestStatus.REJECTED
    assert event.cancellation.request.decision_reason_code == domain.WarehouseReason.ORDER_DESPATCHED


def test_a_new_order_tells_nobody():
    created = item_in(State(OrderStatus.PENDING), version=1)
    assert event_for_change(None, created) is None


def test_a_removed_item_tells_nobody():
    assert event_for_change(item_in(State(OrderStatus.CANCELLED)), None) is None


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda new: {**new, "version": new["version"] - 1}, id="same version"),
        pytest.param(lambda new: {**new, "version": new["version"] + 1}, id="version skipped"),
        pytest.param(lambda new: {**new, "history": new["history"][:-1]}, id="no new history entry"),
        pytest.param(lambda new: {**new, "history": [*new["history"], new["history"][-1]]}, id="two entries"),
    ],
)
def test_a_write_that_is_not_one_change_of_the_rules_tells_nobody(edit):
    old = item_in(State(OrderStatus.PENDING))
    new = after(old, domain.decide(State(OrderStatus.PENDING), Action.CANCEL))
    assert event_for_change(old, new) is not None

    assert event_for_change(old, edit(new)) is None


def test_the_message_body_is_exactly_the_fields_of_the_contract_and_the_attributes_are_for_filtering():
    old = item_in(State(OrderStatus.SENT_TO_WAREHOUSE))
    new = after(old, domain.decide(State(OrderStatus.SENT_TO_WAREHOUSE), Action.REQUEST_CANCELLATION))

    message = sns_message(event_for_change(old, new))

    body = json.loads(message["Message"])
    assert list(body) == BODY_FIELDS
    assert body == {
        "event_id": f"{ORDER_ID}:5",
        "event_type": "CANCELLATION_REQUESTED",
        "occurred_at": "2026-11-26T11:00:00.000000Z",
        "order_id": ORDER_ID,
        "seller_id": "S-1",
        "reference": "SHOP-1001",
        "order_version": 5,
        "status": "SENT_TO_WAREHOUSE",
        "cancellation": {
            "option": "NONE",
            "unavailable_reason": "CANCELLATION_PENDING",
            "request": {
                "status": "REQUESTED",
                "reason_code": "CUSTOMER_REQUEST",
                "note": "Bought twice",
                "requested_at": "2026-11-26T11:00:00.000000Z",
                "due_at": "2026-11-26T13:00:00.000000Z",
                "escalated_at": None,
                "decision_reason_code": None,
                "decision_note": None,
                "decided_at": None,
            },
        },
    }
    assert message["MessageAttributes"] == {
        "event_type": {"DataType": "String", "StringValue": "CANCELLATION_REQUESTED"},
        "seller_id": {"DataType": "String", "StringValue": "S-1"},
    }


def stream_record(event_name: str, old: dict | None, new: dict | None) -> dict[str, Any]:
    """A record as Lambda hands it over: images in DynamoDB JSON, serialized by boto3."""
    serialize = TypeSerializer().serialize
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": 1795000000,
        "Keys": {"order_id": {"S": ORDER_ID}},
        "SequenceNumber": "1100000000017454423010",
        "SizeBytes": 1805,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    for name, image in (("OldImage", old), ("NewImage", new)):
        if image is not None:
            change[name] = {key: serialize(value) for key, value in image.items()}
    record = {
        "eventID": "e0bf85f7767f4fa9b3eed3797825b11a",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-2",
        "eventSourceARN": "arn:aws:dynamodb:eu-west-2:123456789012:table/orders/stream/2026-11-26T00:00:00.000",
        "dynamodb": change,
    }
    return json.loads(json.dumps(record))


def test_a_stream_record_gives_the_same_event_as_its_images_and_again_when_redelivered():
    old = item_in(State(OrderStatus.PICKED, RequestStatus.REQUESTED))
    new = after(old, domain.decide(State(OrderStatus.PICKED, RequestStatus.REQUESTED), Action.APPROVE_CANCELLATION))
    record = stream_record("MODIFY", old, new)

    first, again = event_for_record(record), event_for_record(record)

    assert first == event_for_change(old, new)
    assert first.event_type == Event.CANCELLATION_APPROVED
    assert sns_message(first) == sns_message(again)


def test_numbers_come_back_from_the_stream_as_the_integers_the_store_wrote():
    old = item_in(State(OrderStatus.PENDING))
    new = after(old, domain.decide(State(OrderStatus.PENDING), Action.CANCEL))

    event = event_for_record(stream_record("MODIFY", old, new))

    assert event.order_version == 5 and isinstance(event.order_version, int)
    assert '"order_version":5,' in sns_message(event)["Message"]


def test_insert_and_remove_records_tell_nobody():
    created = item_in(State(OrderStatus.PENDING), version=1)
    assert event_for_record(stream_record("INSERT", None, created)) is None
    assert event_for_record(stream_record("REMOVE", created, None)) is None


class RecordingSns:
    """An SNS client that keeps what it is asked to publish."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **request: Any) -> dict[str, str]:
        self.published.append(request)
        return {"MessageId": f"message-{len(self.published)}"}


def test_publish_sends_the_message_to_the_topic_and_returns_its_id():
    old = item_in(State(OrderStatus.PENDING))
    event = event_for_change(old, after(old, domain.decide(State(OrderStatus.PENDING), Action.CANCEL)))
    client = RecordingSns()

    message_id = publish(client, "arn:aws:sns:eu-west-2:123456789012:order-events", event)

    assert message_id == "message-1"
    assert client.published == [{"TopicArn": "arn:aws:sns:eu-west-2:123456789012:order-events", **sns_message(event)}]
