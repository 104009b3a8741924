"""Moving a deployed table to the per-seller listing by status: orders written before it get their keys, from
their own next move (the store) or from `orders-backfill-listing-keys` (infra/ops/backfill.py), once."""

from __future__ import annotations

from infra.ops.backfill import backfill
from orders import item
from orders.domain import WAREHOUSE, Action, OrderStatus, Seller
from orders.settings import dynamodb
from orders.store import OrderStore
from tests.support.api import NEW_ORDER


def legacy_order(store: OrderStore, reference: str) -> str:
    """An order as the store wrote it before the listing by status was keyed per seller."""
    order, _ = store.create("S-1", {"reference": reference, **NEW_ORDER})
    dynamodb().update_item(
        TableName=store.table_name,
        Key={"order_id": {"S": order["order_id"]}},
        UpdateExpression="REMOVE status_keys, seller_status",
    )
    return order["order_id"]


def listed(store: OrderStore, status: OrderStatus) -> set[str]:
    found, _ = store.list_for_seller("S-1", status=status, limit=100, page_token=None)
    return {order["order_id"] for order in found}


def test_an_order_from_before_gets_its_keys_from_its_next_move(aws):
    store = OrderStore()
    order_id = legacy_order(store, "OLD-MOVED")
    assert order_id not in listed(store, OrderStatus.PENDING)

    moved = store.apply(order_id, Action.move_to(OrderStatus.SENT_TO_WAREHOUSE), WAREHOUSE)

    assert moved.order[item.SELLER_STATUS] == item.seller_status("S-1", OrderStatus.SENT_TO_WAREHOUSE)
    assert order_id in listed(store, OrderStatus.SENT_TO_WAREHOUSE)
    # And from then on as any order: a cancel by its seller copies its key for CANCELLED
    other = legacy_order(store, "OLD-CANCELLED")
    store.apply(other, Action.CANCEL, Seller("S-1"))
    assert other in listed(store, OrderStatus.CANCELLED)


def test_the_backfill_gives_every_order_from_before_its_keys_once(aws):
    store = OrderStore()
    old = [legacy_order(store, f"OLD-{n}") for n in range(5)]
    new, _ = store.create("S-1", {"reference": "NEW", **NEW_ORDER})

    first = backfill(dynamodb(), store.table_name)
    again = backfill(dynamodb(), store.table_name)

    assert (first.scanned, first.written) == (6, 5)
    assert (again.scanned, again.written) == (6, 0)
    assert listed(store, OrderStatus.PENDING) == {*old, new["order_id"]}


def test_a_dry_run_writes_nothing(aws):
    store = OrderStore()
    old = legacy_order(store, "OLD-DRY")
    assert backfill(dynamodb(), store.table_name, dry_run=True).written == 1
    assert old not in listed(store, OrderStatus.PENDING)


def test_an_order_moved_between_the_backfills_read_and_its_write_keeps_the_key_of_its_move(aws):
    store = OrderStore()
    order_id = legacy_order(store, "OLD-RACE")
    client = dynamodb()

    class MovedMeanwhile:
        """The table's client, but the order moves just before the backfill's first write."""

        def __getattr__(self, name):
            return getattr(client, name)

        def update_item(self, **arguments):
            store.apply(order_id, Action.move_to(OrderStatus.SENT_TO_WAREHOUSE), WAREHOUSE)
            return client.update_item(**arguments)

    done = backfill(MovedMeanwhile(), store.table_name)

    assert (done.written, done.moved_meanwhile) == (0, 1)
    assert store.get(order_id, WAREHOUSE)[item.SELLER_STATUS] == item.seller_status(
        "S-1", OrderStatus.SENT_TO_WAREHOUSE
    )
