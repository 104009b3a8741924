"""A hostile warehouse and seller against backorders and splits (docs/api.md §11), through the real functions
on moto: lines that do not match, If-Match spellings, retried and chained splits, long references, the
transaction's refusals from DynamoDB (botocore's Stubber), and each event told once."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from orders import settings, transactions
from orders.handlers import notifier
from tests.integration.test_split_handlers import LINES, new_order, split, status
from tests.support.api import SellerPortal, invoke
from tests.support.notifications import received, stream_poller, subscribe_queue

MUG_SHORT = [{"line": 1, "sku": "MUG-WHITE", "quantity": 1}]


@pytest.fixture
def portal(aws) -> SellerPortal:
    return SellerPortal("S-1")


def on_backorder(portal: SellerPortal, reference: str = "SHOP-7", lines=None) -> dict:
    order = portal.create(reference, items=LINES).body
    reply = status(order["order_id"], {"status": "ON_BACKORDER", "backordered_items": lines or MUG_SHORT})
    assert reply.status == 200, reply.body
    return reply.body


@pytest.mark.parametrize(
    "lines",
    [
        [{"line": 101, "sku": "MUG-WHITE", "quantity": 1}],
        [{"line": -1, "sku": "MUG-WHITE", "quantity": 1}],
        [{"line": 0, "sku": "MUG-WHITE", "quantity": 1}],
        [{"line": 2**63, "sku": "MUG-WHITE", "quantity": 1}],
        [{"line": 1.5, "sku": "MUG-WHITE", "quantity": 1}],
        [{"line": True, "sku": "MUG-WHITE", "quantity": 1}],
        [{"line": 1, "sku": "MUG-WHITE", "quantity": 0}],
        [{"line": 1, "sku": "MUG-WHITE", "quantity": -1}],
        [{"line": 1, "sku": "mug-white", "quantity": 1}],
        [{"line": 1, "sku": "MUG-WHITE ", "quantity": 1}],
        [{"line": 2, "sku": "MUG-WHITE", "quantity": 1}],  # the sku is the order's, on another line
        [{"line": 1, "sku": "MUG-WHITE", "quantity": 1}, {"line": 1, "sku": "MUG-WHITE", "quantity": 2}],
        [{"line": 1, "sku": "MUG-WHITE", "quantity": 2}, {"line": 1, "sku": "MUG-WHITE", "quantity": 1}],
        [{"line": n, "sku": "MUG-WHITE", "quantity": 1} for n in range(1, 102)],
    ],
)
def test_a_warehouse_naming_lines_that_do_not_match_gets_a_400_and_nothing_changes(portal, lines):
    order = new_order(portal)
    reply = status(order["order_id"], {"status": "ON_BACKORDER", "backordered_items": lines})
    assert (reply.status, reply.code) == (400, "VALIDATION_ERROR"), reply.body
    assert reply.body["errors"], reply.body
    assert portal.get(order["order_id"]).body == order


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ('"{v}"', 201),
        ('W/"{v}"', 412),  # compared strongly (RFC 9110): a weak tag never matches
        ("*", 201),
        (' "{v}" ', 201),
        ('"99", "{v}"', 201),
        ('"{p}"', 412),
        ('W/"{p}", "99"', 412),
        ('"0{v}"', 412),
        ("{v}", 400),
        ('"{v}"x', 400),
        ('"{v}', 400),
        ("", 400),
    ],
)
def test_a_split_with_if_match_in_any_spelling(portal, spelling, expected):
    order = on_backorder(portal)
    header = spelling.format(v=order["version"], p=order["version"] - 1)
    reply = split(order["order_id"], headers={"If-Match": header})
    assert reply.status == expected, (header, reply.body)
    after = portal.get(order["order_id"]).body
    assert after["version"] == order["version"] + (1 if expected == 201 else 0)


def test_a_split_sent_five_times_makes_one_order_whose_id_a_retry_derives_again(portal):
    order = on_backorder(portal)
    first = split(order["order_id"])
    assert first.status == 201
    for _ in range(4):
        again = split(order["order_id"])
        assert (again.status, again.code) == (409, "NOTHING_IN_STOCK"), again.body
        assert again.body["split_into"] == [first.body["in_stock"]["order_id"]]
    listed = portal.list().body["orders"]
    assert sorted(o["reference"] for o in listed) == ["SHOP-7", "SHOP-7-2"]
    # the seller creating the split's reference gets the split-off order, as any reuse
    reused = portal.create("SHOP-7-2", items=LINES)
    assert reused.status == 200 and reused.body["order_id"] == first.body["in_stock"]["order_id"]


def test_a_split_of_the_split_off_order_once_it_is_on_backorder_is_its_own_reference(portal):
    order = on_backorder(portal, lines=[{"line": 1, "sku": "MUG-WHITE", "quantity": 1}])
    part = split(order["order_id"]).body["in_stock"]
    assert part["items"] == [{"sku": "MUG-WHITE", "quantity": 1}, {"sku": "TEE-BLUE", "quantity": 1}]
    refused = split(part["order_id"])
    assert (refused.status, refused.code) == (409, "NOT_ON_BACKORDER")
    tee_short = [{"line": 2, "sku": "TEE-BLUE", "quantity": 1}]
    marked = status(part["order_id"], {"status": "ON_BACKORDER", "backordered_items": tee_short})
    assert marked.status == 200, marked.body
    second = split(part["order_id"])
    assert second.status == 201, second.body
    assert second.body["in_stock"]["reference"] == "SHOP-7-2-2"
    assert second.body["in_stock"]["split_from"] == part["order_id"]


def test_a_split_of_an_order_whose_reference_is_64_characters_gives_its_part_the_reference_plus_2(portal):
    """The split-off order's reference is the original's plus "-2" even past the 64 characters a seller may send
    (so a later POST /orders with it is a 400, not the 200 of a reuse); the part is read and listed as any order."""
    order = on_backorder(portal, "R" * 64)
    reply = split(order["order_id"])
    assert reply.status == 201, reply.body
    part = reply.body["in_stock"]
    assert part["reference"] == "R" * 64 + "-2"
    assert portal.get(part["order_id"]).status == 200
    assert any(o["order_id"] == part["order_id"] for o in portal.list().body["orders"])
    assert portal.create(part["reference"], items=LINES).status == 400


def test_a_split_of_another_sellers_order_is_404_byte_for_byte_as_an_absent_one(portal):
    theirs = on_backorder(SellerPortal("S-2"), "SECRET")
    absent = "ord_" + "b" * 26
    seen, missing = split(theirs["order_id"]), split(absent)
    assert seen.status == missing.status == 404
    assert json.dumps(seen.body, sort_keys=True) == json.dumps(missing.body, sort_keys=True).replace(
        absent, theirs["order_id"]
    )
    assert SellerPortal("S-2").get(theirs["order_id"]).body == theirs


@pytest.mark.parametrize(
    ("path", "code"),
    [
        (["cancel"], "ORDER_CANCELLED"),
        (["SENT_TO_WAREHOUSE"], "ORDER_IN_WAREHOUSE"),
        (["SENT_TO_WAREHOUSE", "DESPATCHED"], "ORDER_DESPATCHED"),
        ([], "NOT_ON_BACKORDER"),
    ],
)
def test_a_split_of_an_order_not_on_backorder_is_409_with_the_reason(portal, path, code):
    order = new_order(portal)
    for command in path:
        assert portal.send(command, order["order_id"]).status in (200, 202)
    reply = split(order["order_id"])
    assert (reply.status, reply.code) == (409, code), reply.body


# -- the transaction's refusals, as DynamoDB gives them (botocore's Stubber at the functions' client) ---------


def cancelled(stubber: Stubber, *codes: str) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="cancelled",
        http_status_code=400,
        response_meta={},
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


@pytest.mark.parametrize(
    "reasons",
    [("TransactionConflict", "None"), ("None", "TransactionConflict"), ("ThrottlingError", "None")],
)
def test_a_split_whose_transaction_meets_a_conflict_is_retried_and_made(portal, reasons):
    order = on_backorder(portal)
    typed = _typed(order["order_id"])
    with Stubber(settings.dynamodb()) as stubber:
        stubber.add_response("get_item", {"Item": typed})
        cancelled(stubber, *reasons)
        stubber.add_response("transact_write_items", {})
        reply = split(order["order_id"])
        stubber.assert_no_pending_responses()
    assert reply.status == 201, reply.body
    assert reply.body["backorder"]["version"] == order["version"] + 1
    assert reply.body["in_stock"]["split_from"] == order["order_id"]


def test_a_split_whose_transaction_always_meets_a_conflict_is_503_never_500_and_nothing_changes(portal):
    order = on_backorder(portal)
    typed = _typed(order["order_id"])
    with Stubber(settings.dynamodb()) as stubber:
        stubber.add_response("get_item", {"Item": typed})
        for _ in range(transactions.BACKOFF.attempts):
            cancelled(stubber, "TransactionConflict", "None")
        reply = split(order["order_id"])
    assert (reply.status, reply.code) == (503, "SERVICE_UNAVAILABLE"), reply.body
    assert "Retry-After" in reply.headers
    assert portal.get(order["order_id"]).body == order


def test_a_split_whose_transaction_dynamodb_refuses_for_another_reason_is_a_plain_500_naming_nothing_inside(portal):
    order = on_backorder(portal)
    typed = _typed(order["order_id"])
    with Stubber(settings.dynamodb()) as stubber:
        stubber.add_response("get_item", {"Item": typed})
        cancelled(stubber, "None", "ValidationError")
        reply = split(order["order_id"])
    assert (reply.status, reply.code) == (500, "INTERNAL_ERROR"), reply.body
    assert "ValidationError" not in json.dumps(reply.body)
    assert portal.get(order["order_id"]).body == order


def _typed(order_id: str) -> dict:
    found = settings.dynamodb().get_item(
        TableName=settings.settings().table_name, Key={"order_id": {"S": order_id}}, ConsistentRead=True
    )
    return found["Item"]


# -- told once ------------------------------------------------------------------------------------------


def test_a_backorder_and_a_split_sent_twice_are_each_told_once(portal, notification_channels):
    everything = subscribe_queue(notification_channels.topic_arn, "everything")
    order = new_order(portal)
    for _ in range(2):
        body = {"status": "ON_BACKORDER", "backordered_items": MUG_SHORT}
        assert status(order["order_id"], body).status == 200
    first = split(order["order_id"])
    assert first.status == 201 and split(order["order_id"]).status == 409
    stream_poller(notification_channels, notifier.handler).poll_once()

    told = [d.body["event_type"] for d in received(everything) if d.body["order_id"] == order["order_id"]]
    assert told.count("ORDER_BACKORDERED") == 1 and told.count("ORDER_SPLIT") == 1, told
    part = first.body["in_stock"]["order_id"]
    assert [d.body["event_type"] for d in received(everything) if d.body["order_id"] == part] == []


# -- the other features on an order on backorder ----------------------------------------------------------


def test_a_bulk_cancel_of_an_order_on_backorder_cancels_it_at_once(portal):
    order = on_backorder(portal)
    reply = invoke("POST", "/bulk-cancellations", body={"order_ids": [order["order_id"]]}, seller_id="S-1")
    assert reply.status == 200, reply.body
    [result] = reply.body["results"]
    assert (result["status"], result["action"], result["order"]["status"]) == (200, "CANCELLED", "CANCELLED")


def test_a_backorder_racing_an_items_edit_has_one_winner(portal):
    order = new_order(portal)
    edited = invoke(
        "PATCH",
        "/orders/{order_id}",
        path_parameters={"order_id": order["order_id"]},
        body={"items": [{"sku": "CAP-RED", "quantity": 5}]},
        seller_id="S-1",
    )
    assert edited.status == 200, edited.body
    # the warehouse's backorder was computed from the lines before the edit: refused naming the line
    late = status(order["order_id"], {"status": "ON_BACKORDER", "backordered_items": MUG_SHORT})
    assert (late.status, late.code) == (400, "VALIDATION_ERROR"), late.body
    assert portal.get(order["order_id"]).body["status"] == "PENDING"


def test_listing_orders_on_backorder_is_one_query_per_page(portal, dynamodb_calls):
    waiting = [on_backorder(portal, f"SHOP-{n}")["order_id"] for n in range(3)]
    portal.create("SHOP-X", items=LINES)
    dynamodb_calls.clear()
    first = portal.list(status="ON_BACKORDER", limit="2")
    assert first.status == 200 and dynamodb_calls == {"Query": 1}, dynamodb_calls
    second = portal.list(status="ON_BACKORDER", limit="2", next_token=first.body["next_token"])
    assert dynamodb_calls == {"Query": 2}
    listed = [o["order_id"] for o in first.body["orders"] + second.body["orders"]]
    assert sorted(listed) == sorted(waiting)


def test_a_bulk_cancel_of_both_parts_of_a_split_cancels_each_on_its_own(portal):
    order = on_backorder(portal)
    part = split(order["order_id"]).body["in_stock"]["order_id"]
    assert status(part, {"status": "SENT_TO_WAREHOUSE"}).status == 200
    reply = invoke("POST", "/bulk-cancellations", body={"order_ids": [part, order["order_id"]]}, seller_id="S-1")
    assert [(r["order_id"], r["action"]) for r in reply.body["results"]] == [
        (part, "REFUSED"),
        (order["order_id"], "CANCELLED"),
    ]
    assert reply.body["results"][0]["problem"]["code"] == "ORDER_IN_WAREHOUSE"
    assert portal.get(part).body["status"] == "SENT_TO_WAREHOUSE"
    assert portal.get(order["order_id"]).body["split_into"] == [part]


def test_a_split_with_more_if_match_tags_than_allowed_is_400_and_changes_nothing(portal):
    order = on_backorder(portal)
    header = ", ".join(f'"{n}"' for n in range(1, 102))
    reply = split(order["order_id"], headers={"If-Match": header})
    assert reply.status == 400, reply.body
    assert portal.get(order["order_id"]).body == order
