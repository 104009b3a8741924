"""The help-centre article's stories, over HTTP, as the portal and the warehouse live them.

"Bezos sellers can automatically cancel orders that have not been sent to the warehouse. If an
order has been sent to the warehouse, Bezos sellers can request a cancellation [...] You will be
notified of the outcome of the cancellation."
"""

from __future__ import annotations

from tests.support.local_stack import Portal, RunningStack, Warehouse, new_seller


def events(history: list[dict]) -> list[str]:
    return [entry["event"] for entry in history]


def test_an_order_not_yet_in_the_warehouse_is_cancelled_at_once(portal: Portal):
    # Given an order the seller has just sent
    order = portal.create_order()
    assert order["status"] == "PENDING"
    assert order["cancellation"]["option"] == "CANCEL"

    # When the seller presses "Cancel Order"
    cancelled = portal.request("POST", f"/orders/{order['order_id']}/cancel")

    # Then it is cancelled at once, and reading it back shows so (no "few minutes" to wait)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "CANCELLED"
    assert cancelled.json()["cancellation"] == {
        "option": "NONE",
        "unavailable_reason": "ORDER_CANCELLED",
        "request": None,
    }
    read = portal.request("GET", f"/orders/{order['order_id']}").json()
    assert read["status"] == "CANCELLED"
    assert events(read["history"]) == ["ORDER_CREATED", "ORDER_CANCELLED"]

    # And pressing it again changes nothing
    again = portal.request("POST", f"/orders/{order['order_id']}/cancel")
    assert again.status_code == 200
    assert again.json()["version"] == read["version"]

    # And the seller is told once
    [told] = portal.wait_for_notifications(1)
    assert told["event_type"] == "ORDER_CANCELLED"
    assert told["event_id"] == f"{order['order_id']}:{read['version']}"
    assert told["status"] == "CANCELLED"


def test_a_request_the_warehouse_approves_cancels_the_order(portal: Portal, warehouse: Warehouse):
    # Given an order the warehouse has picked
    order_id = portal.create_order()["order_id"]
    assert warehouse.move(order_id, "SENT_TO_WAREHOUSE").status_code == 200
    assert warehouse.move(order_id, "PICKED").status_code == 200

    # When the seller tries to cancel it, only a request is possible
    refused = portal.request("POST", f"/orders/{order_id}/cancel")
    assert refused.status_code == 409
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "ORDER_IN_WAREHOUSE"
    requested = portal.request(
        "POST", f"/orders/{order_id}/cancellation-request", {"reason_code": "CUSTOMER_REQUEST", "note": "Wrong size"}
    )
    assert requested.status_code == 202
    assert requested.json()["cancellation"]["request"]["status"] == "REQUESTED"
    assert requested.json()["cancellation"]["unavailable_reason"] == "CANCELLATION_PENDING"

    # And the warehouse approves it
    approved = warehouse.decide(order_id, "APPROVED")

    # Then the order is cancelled, and the seller hears of the request and of the outcome, in that order
    assert approved.status_code == 200
    read = portal.request("GET", f"/orders/{order_id}").json()
    assert read["status"] == "CANCELLED"
    assert read["cancellation"]["request"]["status"] == "APPROVED"
    told = portal.wait_for_notifications(2)
    assert [n["event_type"] for n in told] == ["CANCELLATION_REQUESTED", "CANCELLATION_APPROVED"]
    assert told[-1]["status"] == "CANCELLED"


def test_a_request_the_warehouse_rejects_leaves_the_order_going(portal: Portal, warehouse: Warehouse):
    # Given a packed order with a cancellation request
    order_id = portal.create_order()["order_id"]
    warehouse.move(order_id, "SENT_TO_WAREHOUSE")
    warehouse.move(order_id, "PACKED")
    assert portal.request("POST", f"/orders/{order_id}/cancellation-request").status_code == 202

    # When the warehouse rejects it: the order is already packed
    rejected = warehouse.decide(order_id, "REJECTED", "ALREADY_PACKED")

    # Then the order carries on, the request is final, and the seller is told why
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "PACKED"
    assert rejected.json()["cancellation"]["request"]["decision_reason_code"] == "ALREADY_PACKED"
    again = portal.request("POST", f"/orders/{order_id}/cancellation-request")
    assert again.status_code == 409
    assert again.json()["code"] == "CANCELLATION_REJECTED"
    told = portal.wait_for_notifications(2)
    assert [n["event_type"] for n in told] == ["CANCELLATION_REQUESTED", "CANCELLATION_REJECTED"]
    assert told[-1]["cancellation"]["request"]["decision_reason_code"] == "ALREADY_PACKED"
    assert warehouse.move(order_id, "DESPATCHED").status_code == 200


def test_despatching_an_order_rejects_its_pending_request(portal: Portal, warehouse: Warehouse):
    # Given a cancellation request the warehouse has not decided
    order_id = portal.create_order()["order_id"]
    warehouse.move(order_id, "SENT_TO_WAREHOUSE")
    portal.request("POST", f"/orders/{order_id}/cancellation-request", {"reason_code": "ADDRESS_ERROR"})

    # When the courier takes the parcel
    despatched = warehouse.move(order_id, "DESPATCHED")

    # Then the request is rejected by the despatch itself, and the button is greyed out
    assert despatched.status_code == 200
    order = despatched.json()
    assert order["status"] == "DESPATCHED"
    assert order["cancellation"]["request"]["status"] == "REJECTED"
    assert order["cancellation"]["request"]["decision_reason_code"] == "ORDER_DESPATCHED"
    assert order["cancellation"]["option"] == "NONE"
    assert order["history"][-1]["event"] == "CANCELLATION_REJECTED"
    assert order["history"][-1]["to_status"] == "DESPATCHED"
    assert portal.request("POST", f"/orders/{order_id}/cancel").json()["code"] == "ORDER_DESPATCHED"
    told = portal.wait_for_notifications(2)
    assert [(n["event_type"], n["status"]) for n in told] == [
        ("CANCELLATION_REQUESTED", "SENT_TO_WAREHOUSE"),
        ("CANCELLATION_REJECTED", "DESPATCHED"),
    ]


def test_a_seller_never_sees_another_sellers_order(stack: RunningStack, portal: Portal):
    # Given an order of another seller
    other = Portal(stack.api_url, new_seller())
    order_id = other.create_order()["order_id"]

    # Then to this seller it does not exist, whatever they try
    for method, path in [
        ("GET", f"/orders/{order_id}"),
        ("POST", f"/orders/{order_id}/cancel"),
        ("POST", f"/orders/{order_id}/cancellation-request"),
    ]:
        answer = portal.request(method, path)
        assert answer.status_code == 404, (method, path)
        assert answer.json()["code"] == "ORDER_NOT_FOUND"
    assert other.request("GET", f"/orders/{order_id}").json()["status"] == "PENDING"
    assert portal.request("GET", "/orders").json() == {"orders": [], "next_token": None}


def test_the_demo_sellers_have_orders_in_every_state(stack: RunningStack):
    # S-2: the banner's story walks S-1's orders, so S-2's are as seeded
    s2 = Portal(stack.api_url, "S-2")
    orders = s2.request("GET", "/orders?limit=100").json()["orders"]
    statuses = {order["status"] for order in orders}
    assert statuses == {"PENDING", "ON_BACKORDER", "SENT_TO_WAREHOUSE", "PICKED", "PACKED", "DESPATCHED", "CANCELLED"}
    requests = {(o["status"], (o["cancellation"]["request"] or {}).get("status")) for o in orders}
    assert ("PICKED", "REQUESTED") in requests
    assert ("PACKED", "REJECTED") in requests
    assert ("CANCELLED", "APPROVED") in requests
    # Their history is the real one, written by the handlers as each step was taken
    listed = next(o for o in orders if o["status"] == "DESPATCHED")
    despatched = s2.request("GET", f"/orders/{listed['order_id']}").json()  # the list's items have no history
    # (the courier's status changes, if the local carrier took a turn, are history entries too)
    moves = [e for e in despatched["history"] if e["event"] != "COURIER_STATUS_CHANGED"]
    assert [e["to_status"] for e in moves] == [
        "PENDING",
        "SENT_TO_WAREHOUSE",
        "PICKED",
        "PACKED",
        "DESPATCHED",
    ]
    assert despatched["tracking_number"] == "TRK-1005"
