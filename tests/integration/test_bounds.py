"""docs/api.md §15: nothing an order's item holds grows without bound, so every command keeps its answer.

An order is edited at most MAX_EDITS times (409 EDIT_LIMIT after that), and its history's length is
bounded by the lifecycle plus those edits; an item written before the bounds existed, whose history
is past MAX_HISTORY, is refused with 409 HISTORY_LIMIT, never failed with a write DynamoDB refuses.
The largest order the API lets a seller make is built here, through the functions, and measured.
"""

from __future__ import annotations

import copy

import pytest

from orders import item
from orders.couriers import SERVICE_CODES
from orders.domain import MAX_EDITS, MAX_HISTORY
from orders.dynamodb import now, to_item
from orders.settings import dynamodb, settings
from orders.store import OrderStore
from tests.bench.cost import item_size
from tests.support.api import SellerPortal, invoke
from tests.support.commands import http_call, method_of, state_name
from tests.support.contract import COMMANDS, CONTRACT, next_state

# The worst case's every text at its longest (docs/api.md §3, the README's validation bullet).
SELLER = "S" * 64  # the user pool's custom:seller_id holds at most 64 characters
LONG_TEXT = "x" * 200
NOTE = "n" * 500
# The catalogue's longest code (docs/api.md §12: an order names one of them).
LONGEST_COURIER = max(SERVICE_CODES, key=len)
# What the README says the largest order's item can reach (its arithmetic is there).
WORST_CASE_BYTES = 80 * 1024


def largest_order_body(reference: str, variant: int = 0) -> dict:
    """An order with every list and text at its bound; `variant` makes each edit differ from the last."""
    recipient = {
        "name": LONG_TEXT[:-3] + f"{variant:03d}",
        "address_line1": LONG_TEXT,
        "address_line2": LONG_TEXT,
        "city": LONG_TEXT,
        "postcode": "AB12 3CD EF45 GH",
        "country": "GB",
    }
    items = [{"sku": f"{'S' * 60}{line:03d}{variant % 10}", "quantity": 10_000} for line in range(100)]
    return {"reference": reference, "items": items, "recipient": recipient, "courier_service": LONGEST_COURIER}


@pytest.fixture
def portal(aws):
    return SellerPortal(SELLER)


def edited_to_the_limit(portal: SellerPortal) -> dict:
    """A pending order at its largest, edited MAX_EDITS times (each edit replacing all three fields)."""
    order = portal.create("R" * 64, **{k: v for k, v in largest_order_body("R" * 64).items() if k != "reference"})
    assert order.status == 201, order.body
    for number in range(1, MAX_EDITS + 1):
        body = largest_order_body("", number)
        del body["reference"]
        reply = portal.edit(order.body["order_id"], body)
        assert reply.status == 200, (number, reply.body)
    return portal.get(order.body["order_id"]).body


def stored(order_id: str) -> dict:
    from orders.dynamodb import from_item

    found = dynamodb().get_item(TableName=settings().table_name, Key={"order_id": {"S": order_id}})["Item"]
    return from_item(found) or {}


def copy_of(order_id: str, reference: str) -> str:
    """Another order exactly as `order_id` is stored, for a command that would change it."""
    original = stored(order_id)
    new_id = item.order_id_for(SELLER, reference)
    dynamodb().put_item(TableName=settings().table_name, Item=to_item({**copy.deepcopy(original), "order_id": new_id}))
    return new_id


def send(portal: SellerPortal, command: str, order_id: str):
    resource, body, caller = http_call(command)
    if command == "edit":  # a change: the order holds the longest code
        body = {"courier_service": next(code for code in SERVICE_CODES if code != LONGEST_COURIER)}
    if command == "request":
        body = {"reason_code": "OTHER", "note": NOTE}
    if command == "reject":
        body = {**body, "note": NOTE}
    if command == "ON_BACKORDER":
        # The largest backorder: one of each of the order's lines short.
        lines = stored(order_id)["items"]
        backordered = [{"line": n, "sku": line["sku"], "quantity": 1} for n, line in enumerate(lines, start=1)]
        body = {**body, "backordered_items": backordered}
    identity = {"seller_id": portal.seller_id} if caller == "seller" else {"warehouse": True}
    return invoke(method_of(command), resource, path_parameters={"order_id": order_id}, body=body, **identity)


def test_the_largest_order_refuses_only_the_edit_past_its_limit_and_stays_far_under_dynamodbs_400_kb(portal):
    # Given the largest pending order a seller can make, edited as often as an order can be
    order = edited_to_the_limit(portal)
    order_id = order["order_id"]
    assert order["editing"] == {"option": "NONE", "unavailable_reason": "EDIT_LIMIT"}
    assert order["cancellation"]["option"] == "CANCEL"  # the edit bound is the edits' alone

    # When each command is sent to a copy of it
    for command in COMMANDS:
        copy_id = copy_of(order_id, f"COPY-{command}")
        reply = send(portal, command, copy_id)

        # Then the edit is refused by its bound, naming it; everything else is the contract's answer
        if command in ("edit", "edit_items"):
            assert (reply.status, reply.body["code"]) == (409, "EDIT_LIMIT"), reply.body
            assert "edited 100 times" in reply.body["detail"]
            assert stored(copy_id) == {**stored(order_id), "order_id": copy_id}  # nothing written
            continue
        expected = CONTRACT["PENDING/-", command]
        assert reply.status == expected.http_status, (command, reply.body)
        if expected.http_status == 409:
            assert reply.body["code"] == expected.code
        else:
            assert state_name(reply.body) == next_state("PENDING/-", command)

    # And taken through the longest life the rules allow (warehouse, request, escalation, rejection, despatch)
    for command in ("SENT_TO_WAREHOUSE", "PICKED", "PACKED", "request"):
        assert send(portal, command, order_id).status in (200, 202)
    due_at = stored(order_id)[item.REQUEST]["due_at"]
    assert OrderStore().escalate(order_id, at=max(due_at, now()))
    for command in ("reject", "DESPATCHED"):
        assert send(portal, command, order_id).status == 200

    # Then its history holds every change, and the item is under the size the README states
    final = portal.get(order_id).body
    assert len(final["history"]) == 1 + MAX_EDITS + 7 < MAX_HISTORY
    size = item_size(stored(order_id))
    assert size < WORST_CASE_BYTES, size

    # And every command still answers as the rules say
    for command in COMMANDS:
        reply = send(portal, command, copy_of(order_id, f"LAST-{command}"))
        expected = CONTRACT["DESPATCHED/REJECTED", command]
        assert (reply.status, reply.body.get("code")) == (expected.http_status, expected.code), (command, reply.body)

    # And once despatched, its courier status changes (each a history entry, §12) until the history's
    # bound: here the entries are written straight into the item (as the courier status's write appends
    # them) up to one short of it, then the last change goes through the API and the next is refused
    # naming the bound, never a 500
    def track(number: int) -> object:
        event = {
            "event_id": f"E{number:03d}" + "e" * 60,
            "status": ("IN_TRANSIT", "EXCEPTION")[number % 2],
            "occurred_at": f"2026-01-01T{number // 60:02d}:{number % 60:02d}:00Z",
            "location": LONG_TEXT,
            "description": NOTE,
        }
        return invoke(
            "POST",
            "/warehouse/orders/{order_id}/tracking-events",
            path_parameters={"order_id": order_id},
            body={"events": [event]},
            warehouse=True,
        )

    assert track(0).status == 200
    grown = stored(order_id)
    entry = grown["history"][-1]
    assert entry["event"] == "COURIER_STATUS_CHANGED"
    grown["history"] = grown["history"] + [entry] * (MAX_HISTORY - 1 - len(grown["history"]))
    grown["version"] = len(grown["history"])
    dynamodb().put_item(TableName=settings().table_name, Item=to_item(grown))
    assert track(1).status == 200
    refused = track(2)
    assert (refused.status, refused.body["code"]) == (409, "HISTORY_LIMIT"), refused.body
    size = item_size(stored(order_id))
    assert len(stored(order_id)["history"]) == MAX_HISTORY and size < WORST_CASE_BYTES, size


def test_an_order_written_before_the_bounds_with_a_huge_history_is_refused_never_a_500(aws):
    # Given a pending order whose history is 4,349 edits long, as the red team seeded one (an item written
    # before the bounds existed, near DynamoDB's 400 KB)
    portal = SellerPortal("S-1")
    order = portal.create("OLD").body
    old = stored(order["order_id"])
    entry = {"at": old["created_at"], "event": "ORDER_EDITED", "by": "seller:S-1", "changed": ["items"]}
    old["history"] = old["history"] + [entry] * 4349
    old["version"] = len(old["history"])
    dynamodb().put_item(TableName=settings().table_name, Item=to_item(old))
    assert item_size(old) > 300 * 1024

    # (the commands that would change a pending order, and one that its rules refuse)
    for command in ("cancel", "edit", "SENT_TO_WAREHOUSE", "request"):
        # When the command is sent
        reply = send(portal, command, order["order_id"])

        # Then a command the rules refuse is refused as they say; one that would change the order is
        # refused naming the bound; never a 500, and nothing is written
        expected = CONTRACT["PENDING/-", command]
        code = expected.code if expected.http_status == 409 else "HISTORY_LIMIT"
        assert (reply.status, reply.body["code"]) == (409, code), (command, reply.body)
        assert stored(order["order_id"])["version"] == old["version"]
    shown = portal.get(order["order_id"]).body
    assert shown["cancellation"] == {"option": "NONE", "unavailable_reason": "HISTORY_LIMIT", "request": None}
    assert shown["editing"] == {"option": "NONE", "unavailable_reason": "HISTORY_LIMIT"}
