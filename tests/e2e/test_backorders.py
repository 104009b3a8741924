""" "How to split an order", end to end over HTTP against `make run` (docs/api.md §11): the warehouse marks a
backorder (SigV4), the seller sees it and splits off what is in stock, a retry changes nothing, and the two
events reach the topic's subscriber, the seller's channel and the feed exactly once each; the new order's
creation tells nobody."""

from __future__ import annotations

import pytest

from tests.support.local_stack import Portal, RunningStack, new_seller, wait_for

LINES = [{"sku": "TSHIRT-RED-M", "quantity": 2}, {"sku": "MUG-WHITE", "quantity": 1}]
MUG_SHORT = {
    "status": "ON_BACKORDER",
    "backordered_items": [{"line": 2, "sku": "MUG-WHITE", "quantity": 1}],
    "expected_at": "2027-01-15",
}


@pytest.fixture
def stack(fast_stack: RunningStack) -> RunningStack:
    return fast_stack


def test_the_seller_splits_an_order_on_backorder_and_hears_each_change_once(stack, portal, warehouse, receiver):
    # Given a seller with a channel, and an order of two T-shirts and a mug
    answer = portal.request("POST", "/notification-channels", {"url": receiver.url("/shop")})
    receiver.secrets["/shop"] = answer.json()["secret"]
    created = portal.request("POST", "/orders", {"reference": "SHOP-2001", "items": LINES, **_rest()})
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]

    # When the warehouse finds the mug short
    marked = warehouse.post(f"/warehouse/orders/{order_id}/status", MUG_SHORT)
    assert marked.status_code == 200, marked.text

    # Then the seller's page shows it on backorder, with the line short and the day, and a Split order button
    page = portal.request("GET", f"/orders/{order_id}").json()
    assert page["status"] == "ON_BACKORDER"
    assert (
        page["backorder"]["items"] == MUG_SHORT["backordered_items"]
        and page["backorder"]["expected_at"] == "2027-01-15"
    )
    assert page["splitting"] == {"option": "SPLIT", "unavailable_reason": None}

    # When the seller splits it, naming the version they read
    split = portal.request("POST", f"/orders/{order_id}/split", None, **{"If-Match": f'"{page["version"]}"'})

    # Then the T-shirts are a new PENDING order that links back, and the mug waits on the original
    assert split.status_code == 201, split.text
    new, original = split.json()["in_stock"], split.json()["backorder"]
    assert (new["reference"], new["status"], new["items"]) == ("SHOP-2001-2", "PENDING", [LINES[0]])
    assert new["split_from"] == order_id and original["split_into"] == [new["order_id"]]
    assert (original["status"], original["items"]) == ("ON_BACKORDER", [LINES[1]])
    assert split.headers["ETag"] == f'"{original["version"]}"'
    assert portal.request("GET", f"/orders/{new['order_id']}").json() == new

    # And a retry (a lost answer) makes no second order
    again = portal.request("POST", f"/orders/{order_id}/split")
    assert (again.status_code, again.json()["code"]) == (409, "NOTHING_IN_STOCK")
    listed = portal.request("GET", "/orders?limit=100").json()["orders"]
    assert sorted(o["reference"] for o in listed) == ["SHOP-2001", "SHOP-2001-2"]

    # And another seller cannot split or see it
    stranger = Portal(stack.api_url, new_seller())
    assert stranger.request("POST", f"/orders/{order_id}/split").status_code == 404

    # And each change is told once, to the topic's subscriber, the channel and the feed; the new order never
    expected = [("ORDER_BACKORDERED", f"{order_id}:2"), ("ORDER_SPLIT", f"{order_id}:3")]
    told = portal.wait_for_notifications(2)
    delivered = wait_for(lambda: receiver.of("/shop"), lambda found: len(found) >= 2, timeout=30)
    stack.deliveries_settled()
    assert [(n["event_type"], n["event_id"]) for n in portal.notifications()] == expected
    # A channel hears each once, in no promised order (a standard queue, batches in parallel: §7's
    # X-Event-Id and order_version are how a receiver orders them)
    assert sorted((d.event_type, d.event_id) for d in receiver.of("/shop")) == expected
    assert all(d.signature_valid for d in delivered)
    assert told[0]["backorder"]["items"] == MUG_SHORT["backordered_items"]
    assert told[1]["in_stock_order_id"] == new["order_id"] and told[1]["order_id"] == order_id
    feed = portal.request("GET", "/notifications?limit=100").json()["notifications"]
    assert [(n["event_type"], n["event_id"]) for n in feed] == expected[::-1]

    # And when stock arrives the original goes back to PENDING, telling nobody
    assert warehouse.post(f"/warehouse/orders/{order_id}/status", {"status": "PENDING"}).json()["backorder"] is None
    stack.deliveries_settled()
    assert len(portal.notifications()) == 2


def _rest() -> dict:
    from tests.support.api import NEW_ORDER

    return {key: value for key, value in NEW_ORDER.items() if key != "items"}
