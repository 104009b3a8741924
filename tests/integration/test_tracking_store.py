"""orders.tracking_store against moto: idempotency, out-of-order events, the 100-event bound, requests per call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orders.domain import WAREHOUSE, Action, Details, Refusal, Seller
from orders.dynamodb import timestamp, to_item
from orders.settings import dynamodb
from orders.store import OrderNotFound, OrderStore
from orders.tracking import MAX_KEPT, EventRecord
from orders.tracking_store import TrackingRefused, TrackingStore
from tests.support.api import NEW_ORDER

SELLER = Seller("S-1")
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def stores(aws):
    return OrderStore(), TrackingStore()


def event(event_id: str, status: str, minutes: int, location: str | None = "Leeds") -> EventRecord:
    return {
        "event_id": event_id,
        "status": status,
        "occurred_at": timestamp(START + timedelta(minutes=minutes)),
        "location": location,
        "description": None,
        "received_at": timestamp(START),
    }


def despatched(orders: OrderStore, reference: str = "SHOP-1", seller: str = "S-1") -> str:
    order, _ = orders.create(seller, {"reference": reference, **NEW_ORDER})
    for status in ("SENT_TO_WAREHOUSE", "DESPATCHED"):
        orders.apply(order["order_id"], Action(f"MOVE_TO_{status}"), WAREHOUSE, Details(tracking_number="TN1"))
    return order["order_id"]


def test_a_batch_costs_one_read_and_at_most_two_writes_whatever_its_size(stores, dynamodb_calls):
    orders, tracking = stores
    order_id = despatched(orders)
    dynamodb_calls.clear()

    tracked = tracking.add(order_id, [event(f"e{n:02}", "IN_TRANSIT", n) for n in range(50)])

    assert dict(dynamodb_calls) == {"BatchGetItem": 1, "PutItem": 1, "UpdateItem": 1}
    assert tracked.status_changed and tracked.order["courier_status"]["status"] == "IN_TRANSIT"
    assert tracked.order == orders.get(order_id, SELLER)  # the answer is the order as written
    assert len(tracking.read(order_id, SELLER)[1]["events"]) == 50


def test_a_re_sent_batch_writes_nothing(stores, dynamodb_calls):
    orders, tracking = stores
    order_id = despatched(orders)
    batch = [event("a", "IN_TRANSIT", 1), event("b", "OUT_FOR_DELIVERY", 2)]
    first = tracking.add(order_id, batch)
    dynamodb_calls.clear()

    again = tracking.add(order_id, list(reversed(batch)))

    assert dict(dynamodb_calls) == {"BatchGetItem": 1}
    assert not again.status_changed and again.order == first.order
    assert first.order["version"] == 4  # created, sent, despatched, one courier status change


def test_an_event_held_is_never_replaced_by_a_copy_that_differs(stores):
    orders, tracking = stores
    order_id = despatched(orders)
    tracking.add(order_id, [event("a", "IN_TRANSIT", 1, "Leeds")])
    tracking.add(order_id, [event("a", "DELIVERED", 9, "Elsewhere")])

    _, timeline = tracking.read(order_id, SELLER)
    assert [(e["event_id"], e["status"], e["location"]) for e in timeline["events"]] == [("a", "IN_TRANSIT", "Leeds")]


def test_a_late_older_event_joins_the_timeline_without_moving_the_status_back(stores, dynamodb_calls):
    orders, tracking = stores
    order_id = despatched(orders)
    delivered = tracking.add(order_id, [event("d", "DELIVERED", 60)])
    dynamodb_calls.clear()

    late = tracking.add(order_id, [event("t", "IN_TRANSIT", 10), event("o", "OUT_FOR_DELIVERY", 30)])

    assert not late.status_changed
    assert late.order == delivered.order  # version, history and courier status as they were
    assert late.order["courier_status"]["status"] == "DELIVERED"
    assert dict(dynamodb_calls) == {"BatchGetItem": 1, "PutItem": 1}  # the timeline alone
    _, timeline = tracking.read(order_id, SELLER)
    assert [e["event_id"] for e in timeline["events"]] == ["t", "o", "d"]


@pytest.mark.parametrize("arrival", [(0, 1, 2), (2, 1, 0), (1, 2, 0), (2, 0, 1)])
def test_the_outcome_does_not_depend_on_the_order_events_arrive_in(stores, arrival):
    orders, tracking = stores
    order_id = despatched(orders, f"SHOP-{''.join(map(str, arrival))}")
    journey = [event("t", "IN_TRANSIT", 10), event("o", "OUT_FOR_DELIVERY", 30), event("d", "DELIVERED", 60)]
    for index in arrival:
        tracking.add(order_id, [journey[index]])

    order, timeline = tracking.read(order_id, SELLER)
    assert order["courier_status"]["status"] == "DELIVERED"
    assert [e["event_id"] for e in timeline["events"]] == ["t", "o", "d"]
    changes = [entry for entry in order["history"] if entry["event"] == "COURIER_STATUS_CHANGED"]
    assert 1 <= len(changes) <= 3 and len(changes) == order["version"] - 3


def test_at_most_100_events_are_kept_the_oldest_go(stores):
    orders, tracking = stores
    order_id = despatched(orders)
    for first in range(0, 120, 40):
        tracking.add(order_id, [event(f"e{n:03}", "IN_TRANSIT", n) for n in range(first, first + 40)])
    tracked = tracking.add(order_id, [event("late", "IN_TRANSIT", -5), event("last", "DELIVERED", 500)])

    _, timeline = tracking.read(order_id, SELLER)
    kept = [e["event_id"] for e in timeline["events"]]
    assert len(kept) == MAX_KEPT
    assert kept[0] == "e021" and kept[-1] == "last"  # e000-e020 and the late one went
    assert timeline["dropped"] == 22
    assert tracked.merged.dropped == ["late", "e020"]
    assert tracked.order["courier_status"]["status"] == "DELIVERED"


@pytest.mark.parametrize(
    ("statuses", "refusal"),
    [((), Refusal.ORDER_NOT_DESPATCHED), (("SENT_TO_WAREHOUSE", "PACKED"), Refusal.ORDER_NOT_DESPATCHED)],
)
def test_events_for_an_order_not_despatched_are_refused_and_change_nothing(stores, statuses, refusal):
    orders, tracking = stores
    order, _ = orders.create("S-1", {"reference": "SHOP-1", **NEW_ORDER})
    for status in statuses:
        orders.apply(order["order_id"], Action(f"MOVE_TO_{status}"), WAREHOUSE)
    with pytest.raises(TrackingRefused) as refused:
        tracking.add(order["order_id"], [event("a", "IN_TRANSIT", 1)])
    assert refused.value.refusal == refusal
    assert tracking.read(order["order_id"], SELLER)[1]["version"] == 0
    assert dynamodb().scan(TableName=tracking.tracking_table_name)["Count"] == 0


def test_events_for_a_cancelled_order_are_refused(stores):
    orders, tracking = stores
    order, _ = orders.create("S-1", {"reference": "SHOP-1", **NEW_ORDER})
    orders.apply(order["order_id"], Action.CANCEL, SELLER)
    with pytest.raises(TrackingRefused) as refused:
        tracking.add(order["order_id"], [event("a", "IN_TRANSIT", 1)])
    assert refused.value.refusal == Refusal.ORDER_CANCELLED


def test_a_missing_order_is_not_found_and_another_sellers_tracking_too(stores):
    orders, tracking = stores
    with pytest.raises(OrderNotFound):
        tracking.add("ord_" + "a" * 26, [event("a", "IN_TRANSIT", 1)])
    order_id = despatched(orders)
    with pytest.raises(OrderNotFound):
        tracking.read(order_id, Seller("S-2"))


def test_an_order_left_behind_its_timeline_is_moved_by_the_warehouses_retry(stores, dynamodb_calls):
    # Given a function that stopped between its two writes: the timeline holds a DELIVERED, the order not
    orders, tracking = stores
    order_id = despatched(orders)
    tracking.add(order_id, [event("t", "IN_TRANSIT", 10)])
    _, timeline = tracking.read(order_id, SELLER)
    delivered = event("d", "DELIVERED", 60)
    dynamodb().put_item(
        TableName=tracking.tracking_table_name,
        Item=to_item({**timeline, "version": timeline["version"] + 1, "events": [*timeline["events"], delivered]}),
    )
    dynamodb_calls.clear()

    # When the warehouse sends the batch again (it had no answer)
    retried = tracking.add(order_id, [delivered])

    # Then the order catches up with its timeline, once, and the timeline is not written again
    assert retried.status_changed and retried.order["courier_status"]["status"] == "DELIVERED"
    assert dict(dynamodb_calls) == {"BatchGetItem": 1, "UpdateItem": 1}
    assert not tracking.add(order_id, [delivered]).status_changed
