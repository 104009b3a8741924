"""Backorders and splits through the real functions (docs/api.md §11): API Gateway REST events in, HTTP answers
out, moto behind; bad input is a 400 naming the field and changes nothing, and the split's DynamoDB requests are
counted at the function's own client."""

from __future__ import annotations

import pytest

from orders import item
from tests.support.api import SellerPortal, invoke

LINES = [{"sku": "MUG-WHITE", "quantity": 2}, {"sku": "TEE-BLUE", "quantity": 1}]


@pytest.fixture
def portal(aws):
    return SellerPortal("S-1")


def status(order_id: str, body) -> object:
    return invoke(
        "POST", "/warehouse/orders/{order_id}/status", path_parameters={"order_id": order_id}, body=body, warehouse=True
    )


def split(order_id: str, seller: str = "S-1", headers: dict | None = None):
    return invoke(
        "POST", "/orders/{order_id}/split", path_parameters={"order_id": order_id}, seller_id=seller, headers=headers
    )


def new_order(portal: SellerPortal, reference: str = "SHOP-7") -> dict:
    return portal.create(reference, items=LINES).body


MUG_SHORT = {"status": "ON_BACKORDER", "backordered_items": [{"line": 1, "sku": "MUG-WHITE", "quantity": 1}]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"status": "ON_BACKORDER"}, "body"),
        ({"status": "ON_BACKORDER", "backordered_items": []}, "backordered_items"),
        (
            {**MUG_SHORT, "backordered_items": [{"line": 0, "sku": "MUG-WHITE", "quantity": 1}]},
            "backordered_items[0].line",
        ),
        (
            {**MUG_SHORT, "backordered_items": [{"line": 1, "sku": "MUG-WHITE", "quantity": "1"}]},
            "backordered_items[0].quantity",
        ),
        (
            {**MUG_SHORT, "backordered_items": [{"line": 1, "sku": "MUG-WHITE", "quantity": 1, "x": 1}]},
            "backordered_items[0].x",
        ),
        ({**MUG_SHORT, "backordered_items": [MUG_SHORT["backordered_items"][0]] * 2}, "body"),
        ({**MUG_SHORT, "expected_at": "2026-13-01"}, "expected_at"),
        ({**MUG_SHORT, "expected_at": "tomorrow"}, "expected_at"),
        ({"status": "SENT_TO_WAREHOUSE", "backordered_items": MUG_SHORT["backordered_items"]}, "body"),
        ({"status": "PENDING", "expected_at": "2027-01-01"}, "body"),
        ({**MUG_SHORT, "backordered_items": [{"line": 2, "sku": "MUG-WHITE", "quantity": 1}]}, "backordered_items[0]"),
        ({**MUG_SHORT, "backordered_items": [{"line": 1, "sku": "MUG-WHITE", "quantity": 3}]}, "backordered_items[0]"),
        ({**MUG_SHORT, "backordered_items": [{"line": 3, "sku": "CAP", "quantity": 1}]}, "backordered_items[0]"),
    ],
)
def test_a_backorder_the_order_or_the_contract_does_not_allow_is_a_400_naming_the_field(portal, body, field):
    order = new_order(portal)

    reply = status(order["order_id"], body)

    assert (reply.status, reply.code) == (400, "VALIDATION_ERROR"), reply.body
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert field in [error["field"] for error in reply.body["errors"]], reply.body
    assert portal.get(order["order_id"]).body == order


def test_the_warehouse_marks_a_backorder_the_seller_sees_it_and_stock_arriving_ends_it(portal, dynamodb_calls):
    order = new_order(portal)
    dynamodb_calls.clear()

    marked = status(order["order_id"], {**MUG_SHORT, "expected_at": "2027-01-05"})

    assert dynamodb_calls == {"UpdateItem": 1}
    assert marked.status == 200 and marked.headers["ETag"] == '"2"'
    shown = portal.get(order["order_id"]).body
    assert shown == marked.body
    assert shown["status"] == "ON_BACKORDER"
    assert (
        shown["backorder"]["items"] == MUG_SHORT["backordered_items"]
        and shown["backorder"]["expected_at"] == "2027-01-05"
    )
    assert (shown["cancellation"]["option"], shown["editing"]["option"], shown["splitting"]["option"]) == (
        "CANCEL",
        "EDIT",
        "SPLIT",
    )
    assert [o["order_id"] for o in portal.list(status="ON_BACKORDER").body["orders"]] == [order["order_id"]]

    back = status(order["order_id"], {"status": "PENDING"})
    assert back.status == 200 and back.body["status"] == "PENDING" and back.body["backorder"] is None
    assert back.body["splitting"] == {"option": "NONE", "unavailable_reason": "NOT_ON_BACKORDER"}
    assert portal.list(status="ON_BACKORDER").body["orders"] == []


def test_a_split_through_the_function_answers_both_orders_in_two_requests(portal, dynamodb_calls):
    order = new_order(portal)
    status(order["order_id"], MUG_SHORT)
    dynamodb_calls.clear()

    reply = split(order["order_id"], headers={"If-Match": '"2"'})

    assert dynamodb_calls == {"GetItem": 1, "TransactWriteItems": 1}
    assert reply.status == 201 and reply.headers["ETag"] == '"3"'
    new, original = reply.body["in_stock"], reply.body["backorder"]
    assert portal.get(new["order_id"]).body == new and portal.get(order["order_id"]).body == original
    assert new["items"] == [{"sku": "MUG-WHITE", "quantity": 1}, {"sku": "TEE-BLUE", "quantity": 1}]
    assert original["items"] == [{"sku": "MUG-WHITE", "quantity": 1}] and original["split_into"] == [new["order_id"]]
    assert (new["split_from"], new["reference"]) == (order["order_id"], "SHOP-7-2")

    # A later POST /orders with the split-off order's reference is that order, never a duplicate
    again = portal.create("SHOP-7-2")
    assert again.status == 200 and again.body["order_id"] == new["order_id"]

    # And a retried split meets NOTHING_IN_STOCK in one request, its order naming the split
    dynamodb_calls.clear()
    retry = split(order["order_id"])
    assert dynamodb_calls == {"GetItem": 1}
    assert (retry.status, retry.code, retry.body["order_status"]) == (409, "NOTHING_IN_STOCK", "ON_BACKORDER")
    assert new["order_id"] in retry.body["detail"]


def test_a_split_that_is_not_the_callers_or_not_current_or_not_allowed_is_refused_and_changes_nothing(portal):
    order = new_order(portal)
    pending = split(order["order_id"])
    assert (pending.status, pending.code) == (409, "NOT_ON_BACKORDER")
    status(order["order_id"], MUG_SHORT)
    before = portal.get(order["order_id"]).body

    assert (split(order["order_id"], seller="S-2").status, split(order["order_id"], seller="S-2").code) == (
        404,
        "ORDER_NOT_FOUND",
    )
    stale = split(order["order_id"], headers={"If-Match": '"1"'})
    assert (stale.status, stale.code, stale.body["version"]) == (412, "PRECONDITION_FAILED", 2)
    malformed = split(order["order_id"], headers={"If-Match": "2"})
    assert (malformed.status, malformed.code) == (400, "VALIDATION_ERROR")
    bad_id = invoke("POST", "/orders/{order_id}/split", path_parameters={"order_id": "ord_x"}, seller_id="S-1")
    assert bad_id.status == 400
    assert portal.get(order["order_id"]).body == before
    assert portal.list().body["orders"][0]["order_id"] == order["order_id"] and len(portal.list().body["orders"]) == 1


def test_a_split_whose_reference_the_seller_used_already_is_a_409_naming_it(portal):
    order = new_order(portal, "SHOP-8")
    taken = portal.create("SHOP-8-2").body
    status(order["order_id"], MUG_SHORT)

    reply = split(order["order_id"])

    assert (reply.status, reply.code, reply.body["order_status"]) == (409, "REFERENCE_TAKEN", "ON_BACKORDER")
    assert "SHOP-8-2" in reply.body["detail"] and taken["order_id"] in reply.body["detail"]
    assert portal.get(order["order_id"]).body["version"] == 2
    assert item.order_id_for("S-1", "SHOP-8-2") == taken["order_id"]
