"""Backorders and splits (docs/api.md §11) in the store, on moto: the backorder's lines checked in its write's
condition (list-index paths, `items[1].sku`), stock arriving, an items edit sending the order back to PENDING,
orders written before ON_BACKORDER existed, and the split's one transaction, its requests counted at the
store's own client."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from orders import item, settings
from orders.domain import WAREHOUSE, Action, Details, Refusal, Seller
from orders.dynamodb import StoreUnavailable, to_item
from orders.store import (
    BackorderLinesRefused,
    OrderNotFound,
    OrderStore,
    PreconditionFailed,
    ReferenceTaken,
    RefusalError,
)
from tests.support.api import NEW_ORDER

SELLER = Seller("S-1")
LINES = [{"sku": "MUG-WHITE", "quantity": 3}, {"sku": "TEE-BLUE", "quantity": 1}, {"sku": "CAP-RED", "quantity": 2}]


@pytest.fixture
def store(aws):
    return OrderStore()


def new_order(store: OrderStore, reference: str = "SHOP-1001", seller: str = "S-1") -> str:
    return store.create(seller, {"reference": reference, **NEW_ORDER, "items": LINES})[0]["order_id"]


def backorder(*lines: tuple[int, str, int], expected_at: str | None = None) -> Details:
    named = tuple({"line": line, "sku": sku, "quantity": quantity} for line, sku, quantity in lines)
    return Details(backordered_items=named, expected_at=expected_at)


def stored(order_id: str) -> dict:
    from orders.dynamodb import from_item

    found = settings.dynamodb().get_item(TableName=settings.settings().table_name, Key={"order_id": {"S": order_id}})
    return from_item(found.get("Item")) or {}


# -- marking a backorder ----------------------------------------------------------------------------


def test_a_backorder_is_one_conditional_write_holding_the_named_lines(store, dynamodb_calls):
    order_id = new_order(store)
    dynamodb_calls.clear()

    applied = store.apply(order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, backorder((2, "TEE-BLUE", 1)))

    assert dynamodb_calls == {"UpdateItem": 1}
    order = applied.order
    assert order["status"] == "ON_BACKORDER" and order["version"] == 2
    assert order["seller_status"] == item.seller_status("S-1", "ON_BACKORDER")
    assert order["backorder"]["items"] == [{"line": 2, "sku": "TEE-BLUE", "quantity": 1}]
    assert order["backorder"]["expected_at"] is None and order["backorder"]["since"] == order["updated_at"]
    assert order["history"][-1] == {
        "at": order["updated_at"],
        "event": "STATUS_CHANGED",
        "by": "warehouse",
        "to_status": "ON_BACKORDER",
    }


@pytest.mark.parametrize(
    "line, why",
    [
        ((2, "MUG-WHITE", 1), "line 2 holds TEE-BLUE, not MUG-WHITE"),
        ((2, "TEE-BLUE", 2), "line 2 holds 1 of TEE-BLUE, fewer than 2"),
        ((4, "TEE-BLUE", 1), "the order has 3 line(s); there is no line 4"),
    ],
)
def test_a_backorder_naming_lines_the_order_does_not_hold_is_refused_by_its_condition_naming_them(
    store, dynamodb_calls, line, why
):
    order_id = new_order(store)
    before = stored(order_id)
    dynamodb_calls.clear()

    with pytest.raises(BackorderLinesRefused) as refused:
        store.apply(order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, backorder((1, "MUG-WHITE", 3), line))

    # The condition refused it (one request; the old item says which line), and nothing was written
    assert dynamodb_calls == {"UpdateItem": 1}
    assert refused.value.mismatches == [(1, why)]
    assert stored(order_id) == before


def test_the_same_backorder_again_is_200_unchanged_and_a_changed_one_is_a_new_marking(store, dynamodb_calls):
    order_id = new_order(store)
    first = store.apply(order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, backorder((1, "MUG-WHITE", 2)))

    again = store.apply(order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, backorder((1, "MUG-WHITE", 2)))
    assert type(again.outcome).__name__ == "Unchanged" and again.order == first.order

    dated = store.apply(
        order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, backorder((1, "MUG-WHITE", 2), expected_at="2027-01-05")
    )
    assert dated.order["version"] == 3 and dated.order["backorder"]["expected_at"] == "2027-01-05"
    dated_again = store.apply(
        order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, backorder((1, "MUG-WHITE", 2), expected_at="2027-01-05")
    )
    assert dated_again.order == dated.order


@pytest.mark.parametrize("arrives_as", [Action.MOVE_TO_PENDING, Action.MOVE_TO_SENT_TO_WAREHOUSE])
def test_stock_arriving_ends_the_backorder_in_the_same_write(store, dynamodb_calls, arrives_as):
    order_id = new_order(store)
    store.apply(order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, backorder((3, "CAP-RED", 2)))
    dynamodb_calls.clear()

    order = store.apply(order_id, arrives_as, WAREHOUSE).order

    assert dynamodb_calls == {"UpdateItem": 1}
    assert "backorder" not in order and order["status"] == arrives_as.target_status
    assert order["seller_status"] == item.seller_status("S-1", arrives_as.target_status)


def test_stock_arriving_for_an_order_never_on_backorder_is_200_unchanged_and_from_the_warehouse_refused(store):
    order_id = new_order(store)
    assert type(store.apply(order_id, Action.MOVE_TO_PENDING, WAREHOUSE).outcome).__name__ == "Unchanged"
    store.apply(order_id, Action.MOVE_TO_SENT_TO_WAREHOUSE, WAREHOUSE)
    for action in (Action.MOVE_TO_PENDING, Action.MOVE_TO_ON_BACKORDER):
        with pytest.raises(RefusalError) as refused:
            store.apply(order_id, action, WAREHOUSE, backorder((1, "MUG-WHITE", 1)))
        assert refused.value.refusal == Refusal.INVALID_TRANSITION


def test_an_items_edit_of_an_order_on_backorder_sends_it_back_to_pending_in_one_write(store, dynamodb_calls):
    order_id = new_order(store)
    store.apply(order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, backorder((1, "MUG-WHITE", 1)))
    courier = store.apply(order_id, Action.EDIT, SELLER, Details(changes={"courier_service": "DPD_NEXT_DAY"})).order
    assert courier["status"] == "ON_BACKORDER" and courier["backorder"]  # another field: still on backorder
    dynamodb_calls.clear()

    order = store.apply(order_id, Action.EDIT_ITEMS, SELLER, Details(changes={"items": LINES[:2]})).order

    assert dynamodb_calls == {"UpdateItem": 1}
    assert (order["status"], order["items"], order["edits"]) == ("PENDING", LINES[:2], 2)
    assert "backorder" not in order and order["seller_status"] == item.seller_status("S-1", "PENDING")
    assert order["history"][-1]["event"] == "ORDER_EDITED" and order["history"][-1]["changed"] == ["items"]


def test_an_order_created_before_on_backorder_existed_gets_its_key_from_the_move(store, dynamodb_calls):
    # Given an order whose status_keys were written before ON_BACKORDER existed
    order_id = new_order(store)
    old = stored(order_id)
    del old["status_keys"]["ON_BACKORDER"]
    settings.dynamodb().put_item(TableName=settings.settings().table_name, Item=to_item(old))
    dynamodb_calls.clear()

    # When the warehouse marks a backorder
    order = store.apply(order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, backorder((1, "MUG-WHITE", 1))).order

    # Then the first write is refused by its condition (never an error on the missing key), the second
    # writes the whole map, and the listing by status holds it
    assert dynamodb_calls == {"UpdateItem": 2}
    assert order["seller_status"] == item.seller_status("S-1", "ON_BACKORDER")
    assert order["status_keys"] == {status: item.seller_status("S-1", status) for status in order["status_keys"]}
    assert "ON_BACKORDER" in order["status_keys"]
    listed, _ = store.list_for_seller("S-1", status="ON_BACKORDER", limit=10, page_token=None)
    assert [found["order_id"] for found in listed] == [order_id]


# -- splitting ----------------------------------------------------------------------------------------


def on_backorder(store: OrderStore, reference: str = "SHOP-1001", *lines) -> str:
    order_id = new_order(store, reference)
    store.apply(
        order_id,
        Action.MOVE_TO_ON_BACKORDER,
        WAREHOUSE,
        backorder(*(lines or [(1, "MUG-WHITE", 1), (2, "TEE-BLUE", 1)])),
    )
    return order_id


def test_a_split_is_one_read_and_one_transaction_and_a_retry_meets_nothing_in_stock(store, dynamodb_calls):
    order_id = on_backorder(store)
    dynamodb_calls.clear()

    done = store.split(order_id, SELLER)

    assert dynamodb_calls == {"GetItem": 1, "TransactWriteItems": 1}
    new, original = done.in_stock, done.backorder
    assert stored(new["order_id"]) == new and stored(order_id) == original
    assert new["order_id"] == item.order_id_for("S-1", "SHOP-1001-2")
    assert (new["reference"], new["status"], new["split_from"], new["version"]) == (
        "SHOP-1001-2",
        "PENDING",
        order_id,
        1,
    )
    assert new["items"] == [{"sku": "MUG-WHITE", "quantity": 2}, {"sku": "CAP-RED", "quantity": 2}]
    assert new["seller_status"] == item.seller_status("S-1", "PENDING") and "backorder" not in new
    assert original["items"] == [{"sku": "MUG-WHITE", "quantity": 1}, {"sku": "TEE-BLUE", "quantity": 1}]
    assert original["backorder"]["items"] == [
        {"line": 1, "sku": "MUG-WHITE", "quantity": 1},
        {"line": 2, "sku": "TEE-BLUE", "quantity": 1},
    ]
    assert (original["status"], original["version"], original["split_into"]) == ("ON_BACKORDER", 3, [new["order_id"]])

    # A retry reads the order, which has nothing left in stock: one request, and the answer names the split
    dynamodb_calls.clear()
    with pytest.raises(RefusalError) as refused:
        store.split(order_id, SELLER)
    assert dynamodb_calls == {"GetItem": 1}
    assert refused.value.refusal == Refusal.NOTHING_IN_STOCK and refused.value.order["split_into"] == [new["order_id"]]


def test_a_second_split_after_stock_moved_on_is_reference_3(store):
    order_id = on_backorder(store, "SHOP-9", (1, "MUG-WHITE", 2))
    first = store.split(order_id, SELLER).in_stock
    # The warehouse finds one more mug: one of the two left is short now
    store.apply(order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, backorder((1, "MUG-WHITE", 1)))
    second = store.split(order_id, SELLER)
    assert (first["reference"], second.in_stock["reference"]) == ("SHOP-9-2", "SHOP-9-3")
    assert second.backorder["split_into"] == [first["order_id"], second.in_stock["order_id"]]
    assert second.backorder["items"] == [{"sku": "MUG-WHITE", "quantity": 1}]


def test_a_split_refused_in_its_transaction_is_answered_from_the_order_as_it_stood(store, dynamodb_calls):
    # Given the seller cancels the order between the split's read and its transaction
    order_id = on_backorder(store)

    def cancel_first(**_):
        store.apply(order_id, Action.CANCEL, SELLER)

    settings.dynamodb().meta.events.register_first("before-call.dynamodb.TransactWriteItems", cancel_first)
    dynamodb_calls.clear()
    try:
        with pytest.raises(RefusalError) as refused:
            store.split(order_id, SELLER)
    finally:
        settings.dynamodb().meta.events.unregister("before-call.dynamodb.TransactWriteItems", cancel_first)

    # Then the refusal is the 409 the cancelled order implies, from the transaction's reasons: two requests
    assert refused.value.refusal == Refusal.ORDER_CANCELLED
    assert dynamodb_calls == {"GetItem": 1, "UpdateItem": 1, "TransactWriteItems": 1}  # the UpdateItem is the cancel
    assert stored(item.order_id_for("S-1", "SHOP-1001-2")) == {}


def test_a_split_whose_order_was_edited_meanwhile_is_made_again_from_the_item_the_refusal_returned(
    store, dynamodb_calls
):
    order_id = on_backorder(store)
    edits = []

    def edit_once(**_):
        if not edits:
            edits.append(
                store.apply(order_id, Action.EDIT, SELLER, Details(changes={"courier_service": "DHL_EXPRESS"}))
            )

    settings.dynamodb().meta.events.register_first("before-call.dynamodb.TransactWriteItems", edit_once)
    dynamodb_calls.clear()
    try:
        done = store.split(order_id, SELLER)
    finally:
        settings.dynamodb().meta.events.unregister("before-call.dynamodb.TransactWriteItems", edit_once)

    assert dynamodb_calls == {"GetItem": 1, "UpdateItem": 1, "TransactWriteItems": 2}  # no second read
    assert done.in_stock["courier_service"] == "DHL_EXPRESS" and done.backorder["version"] == 4


def test_a_split_whose_reference_the_seller_already_used_is_refused_and_changes_nothing(store):
    order_id = on_backorder(store)
    taken = new_order(store, "SHOP-1001-2")
    before = stored(order_id)

    with pytest.raises(ReferenceTaken) as refused:
        store.split(order_id, SELLER)

    assert (refused.value.reference, refused.value.taken_by) == ("SHOP-1001-2", taken)
    assert stored(order_id) == before and "split_from" not in stored(taken)


def test_a_split_with_a_stale_if_match_or_of_another_sellers_order_is_refused_before_any_write(store, dynamodb_calls):
    order_id = on_backorder(store)
    dynamodb_calls.clear()
    with pytest.raises(PreconditionFailed):
        store.split(order_id, SELLER, frozenset({1}))
    with pytest.raises(OrderNotFound):
        store.split(order_id, Seller("S-2"))
    with pytest.raises(OrderNotFound):
        store.split(item.order_id_for("S-1", "NO-SUCH"), SELLER)
    assert dynamodb_calls == {"GetItem": 3}
    assert store.split(order_id, SELLER, frozenset({2})).backorder["version"] == 3


def test_a_split_dynamodb_keeps_cancelling_for_conflicts_is_a_503_with_nothing_written(store, monkeypatch):
    from orders import transactions

    order_id = on_backorder(store)
    before = stored(order_id)
    monkeypatch.setattr(transactions, "BACKOFF", transactions.Backoff(attempts=2, first=0.001, budget=0.5))
    monkeypatch.setattr(
        "orders.store.transact_write",
        lambda client, items: transactions.transact_write(client, items, backoff=transactions.BACKOFF),
    )

    def conflict(**_):
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
            },
            "TransactWriteItems",
        )

    settings.dynamodb().meta.events.register_first("before-call.dynamodb.TransactWriteItems", conflict)
    try:
        with pytest.raises(StoreUnavailable):
            store.split(order_id, SELLER)
    finally:
        settings.dynamodb().meta.events.unregister("before-call.dynamodb.TransactWriteItems", conflict)
    assert stored(order_id) == before
