"""Orders written before the per-seller listing keys, moved by two callers at once (docs/api.md §14).

An order from before has no `status_keys`: its first move writes them (the store's second form of the
move). When another move gives them to it between a caller's two tries, that caller's move must still
be carried out (or refused as the rules say), never answered "unchanged" while nothing was written.
"""

from __future__ import annotations

from orders import item
from orders.domain import WAREHOUSE, Action, OrderStatus, Unchanged
from orders.settings import dynamodb
from orders.store import OrderStore
from tests.integration.test_backfill import legacy_order
from tests.support.api import NEW_ORDER


def test_a_move_of_an_order_from_before_that_another_move_gave_its_keys_meanwhile_is_carried_out(aws):
    # Given an order from before the listing keys, in the warehouse
    store = OrderStore()
    order_id = legacy_order(store, "OLD-RACED")
    store.apply(order_id, Action.move_to(OrderStatus.SENT_TO_WAREHOUSE), WAREHOUSE)
    dynamodb().update_item(  # still without its keys, as before the change
        TableName=store.table_name,
        Key={"order_id": {"S": order_id}},
        UpdateExpression="REMOVE status_keys, seller_status",
    )
    # When the warehouse marks it PACKED while another worker's PICKED lands between the PACKED's two tries
    tries = []

    def picked_in_between(params, **_):
        if params.get("Key", {}).get("order_id", {}).get("S") != order_id:
            return
        tries.append(params["ConditionExpression"])
        if len(tries) == 2:  # after PACKED's first try failed on the missing keys, before its second
            store.apply(order_id, Action.move_to(OrderStatus.PICKED), WAREHOUSE)

    events = store.client.meta.events
    events.register("provide-client-params.dynamodb.UpdateItem", picked_in_between)
    try:
        packed = store.apply(order_id, Action.move_to(OrderStatus.PACKED), WAREHOUSE)
    finally:
        events.unregister("provide-client-params.dynamodb.UpdateItem", picked_in_between)

    # Then PACKED is carried out after PICKED, and the listing by status holds it under PACKED
    stored = store.get(order_id, WAREHOUSE)
    assert not isinstance(packed.outcome, Unchanged), "answered unchanged, but nothing was written"
    assert stored["status"] == OrderStatus.PACKED
    assert stored[item.SELLER_STATUS] == item.seller_status("S-1", OrderStatus.PACKED)
    listed, _ = store.list_for_seller("S-1", status=OrderStatus.PACKED, limit=10, page_token=None)
    assert [order["order_id"] for order in listed] == [order_id]


def test_a_move_of_an_order_the_backfill_gives_its_keys_between_the_moves_two_tries_is_carried_out(aws):
    # Given an order from before the listing keys, and the backfill running while the warehouse moves it
    from infra.ops.backfill import backfill

    store = OrderStore()
    order_id = legacy_order(store, "OLD-BACKFILLED")
    tries = []

    def backfill_in_between(params, **_):
        if params.get("Key", {}).get("order_id", {}).get("S") == order_id and not tries:
            tries.append(params)
        elif params.get("Key", {}).get("order_id", {}).get("S") == order_id and len(tries) == 1:
            tries.append(params)
            backfill(dynamodb(), store.table_name)

    events = store.client.meta.events
    events.register("provide-client-params.dynamodb.UpdateItem", backfill_in_between)
    try:
        sent = store.apply(order_id, Action.move_to(OrderStatus.SENT_TO_WAREHOUSE), WAREHOUSE)
    finally:
        events.unregister("provide-client-params.dynamodb.UpdateItem", backfill_in_between)

    # Then the move is written, and the order is listed under its new status only
    assert not isinstance(sent.outcome, Unchanged)
    assert store.get(order_id, WAREHOUSE)["status"] == OrderStatus.SENT_TO_WAREHOUSE
    sent_listed, _ = store.list_for_seller("S-1", status=OrderStatus.SENT_TO_WAREHOUSE, limit=10, page_token=None)
    pending_listed, _ = store.list_for_seller("S-1", status=OrderStatus.PENDING, limit=10, page_token=None)
    assert [order["order_id"] for order in sent_listed] == [order_id] and pending_listed == []


def test_every_state_an_order_reaches_lists_it_under_that_status_only(aws):
    # Given one order driven to each state of the contract, by the seller and the warehouse as the API would
    from orders.domain import Seller
    from tests.support.commands import ACTIONS, SELLER_COMMANDS, details_for
    from tests.support.contract import PATHS

    store = OrderStore()
    expected: dict[str, set[str]] = {status.value: set() for status in OrderStatus}
    for state_name, commands in PATHS.items():
        order, _ = store.create("S-1", {"reference": f"EVERY-{state_name}", **NEW_ORDER})
        for command in commands:
            caller = Seller("S-1") if command in SELLER_COMMANDS else WAREHOUSE
            store.apply(order["order_id"], ACTIONS[command], caller, details_for(command))
        expected[state_name.split("/")[0]].add(order["order_id"])
    # Then each status's listing holds exactly the orders in that status
    for status, order_ids in expected.items():
        found, _ = store.list_for_seller("S-1", status=status, limit=100, page_token=None)
        assert {order["order_id"] for order in found} == order_ids, status
