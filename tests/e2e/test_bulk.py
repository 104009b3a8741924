"""Many orders at once over HTTP against the local stack (docs/api.md §13): the seller's bulk cancellation,
the warehouse's bulk decisions and `orders-warehouse approve ID ID…`, with the events sellers hear."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

from tests.e2e.test_warehouse_queue import cli
from tests.support.local_stack import Portal, RunningStack, Warehouse, new_seller, wait_for
from tests.support.threads import eager_switching


def in_warehouse(portal: Portal, warehouse: Warehouse, status: str = "PICKED") -> dict:
    order = portal.create_order()
    assert warehouse.move(order["order_id"], "SENT_TO_WAREHOUSE").status_code == 200
    if status != "SENT_TO_WAREHOUSE":
        assert warehouse.move(order["order_id"], status).status_code == 200
    return order


def told(portal: Portal) -> Counter:
    return Counter((event["order_id"], event["event_type"]) for event in portal.notifications())


def test_a_seller_cancels_many_orders_in_one_call_and_hears_of_each_once(portal: Portal, warehouse: Warehouse):
    pending = [portal.create_order()["order_id"] for _ in range(3)]
    picked = in_warehouse(portal, warehouse)["order_id"]
    despatched = in_warehouse(portal, warehouse, "DESPATCHED")["order_id"]
    theirs = Portal(portal.api_url, new_seller()).create_order()["order_id"]
    order_ids = [*pending, picked, despatched, theirs]

    dry = portal.request(
        "POST", "/bulk-cancellations", {"order_ids": order_ids, "if_in_warehouse": "REQUEST", "dry_run": True}
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["summary"] == {
        "cancelled": 3,
        "requested": 1,
        "unchanged": 0,
        "refused": 1,
        "not_found": 1,
        "not_done": 0,
    }
    assert all(portal.request("GET", f"/orders/{oid}").json()["version"] == 1 for oid in pending)

    body = {"order_ids": order_ids, "if_in_warehouse": "REQUEST", "reason_code": "FRAUD_SUSPECTED"}
    answer = portal.request("POST", "/bulk-cancellations", body)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    results = answer.json()["results"]
    assert [(r["order_id"], r["status"], r["action"]) for r in results] == [
        *((oid, 200, "CANCELLED") for oid in pending),
        (picked, 202, "CANCELLATION_REQUESTED"),
        (despatched, 409, "REFUSED"),
        (theirs, 404, "NOT_FOUND"),
    ]
    assert results[4]["problem"]["code"] == "ORDER_DESPATCHED"
    assert results[5]["problem"] == {
        "type": "about:blank",
        "title": "Order not found",
        "status": 404,
        "code": "ORDER_NOT_FOUND",
        "detail": f"There is no order {theirs}.",
    }
    # Each order as GET shows it now.
    for result in results[:4]:
        assert portal.request("GET", f"/orders/{result['order_id']}").json() == result["order"]

    # A repeat is UNCHANGED, and nobody hears twice.
    again = portal.request("POST", "/bulk-cancellations", body).json()
    assert [r["action"] for r in again["results"][:4]] == ["UNCHANGED"] * 4
    expected = {(oid, "ORDER_CANCELLED"): 1 for oid in pending} | {(picked, "CANCELLATION_REQUESTED"): 1}
    wait_for(lambda: told(portal), lambda found: found == expected, timeout=15)
    time.sleep(1.5)  # the stream and the poller had time to deliver a second copy, had there been one
    assert told(portal) == expected


def test_a_malformed_bulk_call_is_400_and_changes_nothing(portal: Portal):
    order_id = portal.create_order()["order_id"]
    for body in ({"order_ids": []}, {"order_ids": [order_id, order_id]}, {"order_ids": [order_id] * 101}):
        answer = portal.request("POST", "/bulk-cancellations", body)
        assert answer.status_code == 400 and answer.json()["code"] == "VALIDATION_ERROR", answer.text
    assert portal.request("GET", f"/orders/{order_id}").json()["status"] == "PENDING"


def test_bulk_cancel_racing_the_warehouse_agrees_with_every_final_state(stack: RunningStack, warehouse: Warehouse):
    portal = Portal(stack.api_url, new_seller())
    order_ids = [portal.create_order()["order_id"] for _ in range(30)]
    moved: dict[str, int] = {}
    start = threading.Barrier(len(order_ids) + 1)

    jitter = random.Random(27)
    delays = {order_id: jitter.uniform(0, 0.3) for order_id in order_ids}

    def take_in(order_id: str) -> None:
        own = Warehouse(stack.api_url, warehouse.credentials, warehouse.region)
        start.wait()
        time.sleep(delays[order_id])  # before the bulk call's read, between its read and write, or after
        moved[order_id] = own.move(order_id, "SENT_TO_WAREHOUSE").status_code

    answer: dict[str, dict] = {}

    def cancel_all() -> None:
        own = Portal(stack.api_url, portal.seller_id)
        start.wait()
        # The local stack runs one invocation at a time: the moves sent before the bulk call reach the
        # orders first, the rest after it (the interleaving inside one call is tests/integration's race).
        time.sleep(0.1)
        answer["bulk"] = own.request("POST", "/bulk-cancellations", {"order_ids": order_ids}).json()

    with eager_switching():
        threads = [threading.Thread(target=take_in, args=(oid,)) for oid in order_ids]
        threads.append(threading.Thread(target=cancel_all))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    cancelled = set()
    for result in answer["bulk"]["results"]:
        order = portal.request("GET", f"/orders/{result['order_id']}").json()
        assert len(order["history"]) == 2, order["history"]  # one change each, whoever won
        if result["action"] == "CANCELLED":
            assert order["status"] == "CANCELLED" and moved[result["order_id"]] == 409
            cancelled.add(result["order_id"])
        else:
            assert (result["status"], result["problem"]["code"]) == (409, "ORDER_IN_WAREHOUSE")
            assert order["status"] == "SENT_TO_WAREHOUSE" and moved[result["order_id"]] == 200
    expected = {(oid, "ORDER_CANCELLED"): 1 for oid in cancelled}
    wait_for(lambda: told(portal), lambda found: found == expected, timeout=20)
    time.sleep(1.5)
    assert told(portal) == expected


def test_the_warehouse_decides_many_requests_at_once_and_the_cli_prints_a_line_each(
    stack: RunningStack, portal: Portal, warehouse: Warehouse
):
    orders = [in_warehouse(portal, warehouse) for _ in range(4)]
    ids = [order["order_id"] for order in orders]
    requested = portal.request("POST", "/bulk-cancellations", {"order_ids": ids, "if_in_warehouse": "REQUEST"})
    assert requested.json()["summary"]["requested"] == 4

    answer = warehouse.post(
        "/warehouse/cancellation-decisions",
        {"decisions": [{"order_id": ids[0], "decision": "APPROVED"}, {"order_id": ids[1], "decision": "APPROVED"}]},
    )
    assert answer.status_code == 200, answer.text
    assert [r["action"] for r in answer.json()["results"]] == ["APPROVED", "APPROVED"]
    assert answer.json()["summary"]["approved"] == 2

    rejected = cli(stack, "reject", ids[2], ids[3], "--reason", "ALREADY_PACKED")
    assert rejected.returncode == 0, rejected.stderr
    assert [line.split()[0] for line in rejected.stdout.splitlines()] == [ids[2], ids[3]]
    assert all(line.endswith("PICKED, request REJECTED") for line in rejected.stdout.splitlines())

    # One approved again (unchanged), one rejected one approved (refused): a line each, the refusal on stderr.
    mixed = cli(stack, "approve", ids[0], ids[2])
    assert mixed.returncode == 1
    assert mixed.stdout.splitlines() == [
        f"{ids[0]} {orders[0]['reference']} (seller {portal.seller_id}): CANCELLED, request APPROVED"
    ]
    assert mixed.stderr.startswith(
        f"orders-warehouse: Decision conflict (HTTP 409): The cancellation of order {ids[2]}"
    )

    unsigned = portal.http.post(f"{stack.api_url}/warehouse/cancellation-decisions", json={"decisions": []}, timeout=10)
    assert unsigned.status_code == 403
