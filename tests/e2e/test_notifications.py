"""Notifications as subscribers receive them: each seller its own, the warehouse its requests (docs/api.md §4)."""

from __future__ import annotations

import json

import boto3

from tests.support.local_stack import Portal, RunningStack, Warehouse, new_seller, wait_for


def test_each_seller_hears_of_its_own_orders_only(stack: RunningStack, warehouse: Warehouse):
    # Given two sellers who each cancel an order
    first, second = Portal(stack.api_url, new_seller()), Portal(stack.api_url, new_seller())
    first_order = first.create_order()["order_id"]
    second_order = second.create_order()["order_id"]
    first.request("POST", f"/orders/{first_order}/cancel")
    second.request("POST", f"/orders/{second_order}/cancel")

    # Then each hears of its own cancellation, and nothing else
    [first_told] = first.wait_for_notifications(1)
    [second_told] = second.wait_for_notifications(1)
    assert (first_told["order_id"], first_told["seller_id"]) == (first_order, first.seller_id)
    assert (second_told["order_id"], second_told["seller_id"]) == (second_order, second.seller_id)


def test_a_notification_is_the_section_4_message(portal: Portal, warehouse: Warehouse):
    order = portal.create_order()
    warehouse.move(order["order_id"], "SENT_TO_WAREHOUSE")
    requested = portal.request("POST", f"/orders/{order['order_id']}/cancellation-request", {"reason_code": "OTHER"})

    [told] = portal.wait_for_notifications(1)

    assert set(told) == {
        "event_id",
        "event_type",
        "occurred_at",
        "order_id",
        "seller_id",
        "reference",
        "order_version",
        "status",
        "cancellation",
    }
    after = requested.json()
    assert told["event_id"] == f"{order['order_id']}:{after['version']}"
    assert told["order_version"] == after["version"]
    assert told["reference"] == order["reference"]
    assert told["occurred_at"] == after["history"][-1]["at"]
    assert told["cancellation"] == after["cancellation"]


def test_changes_that_tell_nobody_are_not_notified(portal: Portal, warehouse: Warehouse):
    # Creating, moving through the warehouse and repeating a request tell nobody anything new
    order_id = portal.create_order()["order_id"]
    for status in ("SENT_TO_WAREHOUSE", "PICKED"):
        warehouse.move(order_id, status)
    portal.request("POST", f"/orders/{order_id}/cancellation-request")
    portal.request("POST", f"/orders/{order_id}/cancellation-request")
    warehouse.decide(order_id, "REJECTED", "IN_COURIER_COLLECTION")
    warehouse.decide(order_id, "REJECTED", "IN_COURIER_COLLECTION")

    told = portal.wait_for_notifications(2)
    # A moment more, so a duplicate would have arrived
    told = wait_for(portal.notifications, lambda found: len(found) > 2, timeout=1.0)
    assert [n["event_type"] for n in told] == ["CANCELLATION_REQUESTED", "CANCELLATION_REJECTED"]


def test_the_warehouse_queue_of_the_template_gets_the_requests(
    stack: RunningStack, portal: Portal, warehouse: Warehouse
):
    # Given the template's warehouse subscription (filtered on CANCELLATION_REQUESTED)
    sqs = boto3.client(
        "sqs",
        endpoint_url=stack.aws_url,
        region_name="eu-west-2",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    queue_url = sqs.get_queue_url(QueueName="orders-local-WarehouseQueue")["QueueUrl"]
    order_id = portal.create_order()["order_id"]
    warehouse.move(order_id, "SENT_TO_WAREHOUSE")

    # When a seller requests a cancellation and the warehouse rejects it
    portal.request("POST", f"/orders/{order_id}/cancellation-request")
    warehouse.decide(order_id, "REJECTED", "ALREADY_PACKED")
    portal.wait_for_notifications(2)

    # Then the warehouse's queue holds the request for this order, and not the rejection
    def receive() -> list[dict]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", []
        )
        return [json.loads(message["Body"]) for message in messages]

    bodies: list[dict] = []
    wait_for(
        lambda: bodies.extend(receive()) or bodies, lambda found: any(b["order_id"] == order_id for b in found), 10
    )
    mine = [body for body in bodies if body["order_id"] == order_id]
    assert [body["event_type"] for body in mine] == ["CANCELLATION_REQUESTED"]
