"""Races on an order on backorder (docs/api.md §11), with real threads against moto: each outcome is one that
the commands sent one after the other, in some order, would give. moto serves one DynamoDB request at a time
(infra/local/moto_dynamodb.py), as DynamoDB serialises writes to one item; the conditions are the store's."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from orders import item
from orders.domain import WAREHOUSE, Action, Details, Refusal, Seller
from orders.store import BackorderLinesRefused, OrderStore, RefusalError
from tests.support.api import NEW_ORDER
from tests.support.threads import eager_switching

SELLER = Seller("S-1")
LINES = [{"sku": "MUG-WHITE", "quantity": 2}, {"sku": "TEE-BLUE", "quantity": 1}]
MUG_SHORT = Details(backordered_items=({"line": 1, "sku": "MUG-WHITE", "quantity": 1},))
ORDERS_PER_RACE = 12


@pytest.fixture
def store(aws):
    return OrderStore()


def on_backorder(store: OrderStore, reference: str) -> str:
    order_id = store.create("S-1", {"reference": reference, **NEW_ORDER, "items": LINES})[0]["order_id"]
    store.apply(order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, MUG_SHORT)
    return order_id


def outcome(command) -> str:
    """What a caller was answered: the command's success, or its refusal's code."""
    try:
        command()
    except RefusalError as refused:
        return refused.refusal.value
    except BackorderLinesRefused:
        return "400"
    return "OK"


def together(*commands) -> list[str]:
    """The commands at once, each on its own thread, released by one barrier."""
    start = threading.Barrier(len(commands))

    def go(command):
        start.wait()
        return outcome(command)

    with eager_switching(), ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return [future.result() for future in [pool.submit(go, command) for command in commands]]


def stored(store: OrderStore, order_id: str) -> dict | None:
    try:
        return store.get(order_id, WAREHOUSE)
    except Exception:
        return None


def test_ten_splits_of_one_order_make_one_new_order(store):
    """Serially: the first split makes SHOP-1-2 and leaves every line wholly backordered, so each of the nine
    after it meets NOTHING_IN_STOCK (as a retried split does)."""
    order_id = on_backorder(store, "SHOP-1")

    answers = together(*[lambda: store.split(order_id, SELLER)] * 10)

    assert sorted(answers) == ["NOTHING_IN_STOCK"] * 9 + ["OK"]
    orders, _ = store.list_for_seller("S-1", status=None, limit=100, page_token=None)
    assert sorted(order["reference"] for order in orders) == ["SHOP-1", "SHOP-1-2"]
    original = store.get(order_id, SELLER)
    assert original["split_into"] == [item.order_id_for("S-1", "SHOP-1-2")] and original["version"] == 3
    assert [entry["event"] for entry in original["history"]].count("ORDER_SPLIT") == 1


def test_split_against_cancel(store):
    """Split then cancel: the split-off order ships (PENDING), the original, with what waits, is cancelled.
    Cancel then split: the original is cancelled whole and the split is 409 ORDER_CANCELLED, no new order."""
    seen = set()
    for n in range(ORDERS_PER_RACE):
        order_id = on_backorder(store, f"SC-{n}")
        split, cancel = together(
            partial(store.split, order_id, SELLER), partial(store.apply, order_id, Action.CANCEL, SELLER)
        )
        original, new = store.get(order_id, SELLER), stored(store, item.order_id_for("S-1", f"SC-{n}-2"))
        assert cancel == "OK" and original["status"] == "CANCELLED"
        if split == "OK":
            assert (
                new is not None
                and new["status"] == "PENDING"
                and original["items"] == [{"sku": "MUG-WHITE", "quantity": 1}]
            )
            assert [e["event"] for e in original["history"]][-2:] == ["ORDER_SPLIT", "ORDER_CANCELLED"]
        else:
            assert split == Refusal.ORDER_CANCELLED and new is None and original["items"] == LINES
        seen.add(split)
    assert seen <= {"OK", "ORDER_CANCELLED"}


def test_split_against_the_warehouse_sending_it(store):
    """Split then send: the original goes to the warehouse with only what waited (its backorder cleared) and the
    split-off order stays PENDING. Send then split: the whole order is in the warehouse and the split is 409
    ORDER_IN_WAREHOUSE, no new order."""
    for n in range(ORDERS_PER_RACE):
        order_id = on_backorder(store, f"SW-{n}")
        split, send = together(
            partial(store.split, order_id, SELLER),
            partial(store.apply, order_id, Action.MOVE_TO_SENT_TO_WAREHOUSE, WAREHOUSE),
        )
        original, new = store.get(order_id, SELLER), stored(store, item.order_id_for("S-1", f"SW-{n}-2"))
        assert send == "OK" and original["status"] == "SENT_TO_WAREHOUSE" and "backorder" not in original
        if split == "OK":
            assert new["status"] == "PENDING" and new["items"] == [{"sku": "MUG-WHITE", "quantity": 1}, LINES[1]]
            assert original["items"] == [{"sku": "MUG-WHITE", "quantity": 1}]
        else:
            assert split == Refusal.ORDER_IN_WAREHOUSE and new is None and original["items"] == LINES


def test_a_backorder_against_an_items_edit(store):
    """Backorder then edit: the order goes ON_BACKORDER, then the edit replaces its lines and sends it back to
    PENDING, clearing the backorder. Edit then backorder: line 1 no longer holds MUG-WHITE, so the backorder's
    condition refuses it (400 naming the line) and the order stays PENDING with the new lines. Either way one
    write wins first, and no backorder names a line the order does not hold."""
    new_lines = [{"sku": "CAP-RED", "quantity": 1}]
    seen = set()
    for n in range(ORDERS_PER_RACE):
        order_id = store.create("S-1", {"reference": f"BE-{n}", **NEW_ORDER, "items": LINES})[0]["order_id"]
        mark, edit = together(
            partial(store.apply, order_id, Action.MOVE_TO_ON_BACKORDER, WAREHOUSE, MUG_SHORT),
            partial(store.apply, order_id, Action.EDIT_ITEMS, SELLER, Details(changes={"items": new_lines})),
        )
        order = store.get(order_id, SELLER)
        assert (
            edit == "OK" and order["status"] == "PENDING" and order["items"] == new_lines and "backorder" not in order
        )
        events = [(e["event"], e.get("to_status")) for e in order["history"]]
        if mark == "OK":
            assert events == [
                ("ORDER_CREATED", "PENDING"),
                ("STATUS_CHANGED", "ON_BACKORDER"),
                ("ORDER_EDITED", "PENDING"),
            ]
        else:
            assert mark == "400" and events == [("ORDER_CREATED", "PENDING"), ("ORDER_EDITED", "PENDING")]
        seen.add(mark)
    assert seen <= {"OK", "400"}
