"""Tracking a despatched order over HTTP against the local stack (docs/api.md §12): the routes, isolation,
the event told once per change on the topic, a channel and the feed, and the local carrier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infra.local.webhook_receiver import Receiver
from tests.support.local_stack import Portal, RunningStack, Warehouse, new_seller, wait_for

COURIER_EVENT = "COURIER_STATUS_CHANGED"


def at(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(hours=2) + timedelta(minutes=minutes)).isoformat(timespec="seconds")


def despatched(portal: Portal, warehouse: Warehouse) -> dict:
    order = portal.create_order()
    warehouse.move(order["order_id"], "SENT_TO_WAREHOUSE")
    answer = warehouse.post(
        f"/warehouse/orders/{order['order_id']}/status", {"status": "DESPATCHED", "tracking_number": "JD0002"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def send(warehouse: Warehouse, order_id: str, *events: dict):
    return warehouse.post(f"/warehouse/orders/{order_id}/tracking-events", {"events": list(events)})


def test_the_catalogue_and_the_meanings_are_served_to_a_signed_in_seller(portal: Portal, stack: RunningStack):
    services = portal.request("GET", "/courier-services")
    statuses = portal.request("GET", "/courier-statuses")
    assert services.status_code == statuses.status_code == 200
    assert "DHL_EXPRESS" in {s["code"] for s in services.json()["courier_services"]}
    assert len(statuses.json()["courier_statuses"]) == 9
    # (a seller route: without a token, the gateway refuses it)
    assert portal.http.get(f"{stack.api_url}/courier-services", timeout=10).status_code == 401


def test_a_parcels_journey_is_seen_by_its_seller_only_and_told_once_per_change(
    portal: Portal, warehouse: Warehouse, stack: RunningStack, receiver: Receiver
):
    # Given a seller with a webhook channel for courier status changes, and a despatched order
    answer = portal.request(
        "POST", "/notification-channels", {"url": receiver.url("/courier"), "event_types": [COURIER_EVENT]}
    )
    assert answer.status_code == 201, answer.text
    receiver.secrets["/courier"] = answer.json()["secret"]
    order = despatched(portal, warehouse)
    order_id = order["order_id"]
    assert order["courier_status"] is None and order["tracking_url"].endswith("/JD0002")

    # When the carrier's events arrive late, twice and out of order, and a batch is sent again
    first = [
        {"event_id": "c-2", "status": "IN_TRANSIT", "occurred_at": at(20), "location": "Hub"},
        {"event_id": "c-1", "status": "INFO_RECEIVED", "occurred_at": at(10)},
    ]
    batches = [
        first,
        [{"event_id": "c-4", "status": "DELIVERED", "occurred_at": at(60), "location": "Front door"}],
        [{"event_id": "c-3", "status": "OUT_FOR_DELIVERY", "occurred_at": at(40)}],  # late: no downgrade
        first,  # the same batch again
    ]
    answers = [send(warehouse, order_id, *batch) for batch in batches]
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert [a.json()["version"] for a in answers] == [4, 5, 5, 5]

    # Then the seller sees the order delivered, and the whole timeline oldest first
    listed = portal.request("GET", "/orders").json()["orders"][0]
    assert listed["courier_status"]["status"] == "DELIVERED" and listed["tracking_url"] == order["tracking_url"]
    tracking = portal.request("GET", f"/orders/{order_id}/tracking")
    assert tracking.status_code == 200
    assert [e["event_id"] for e in tracking.json()["events"]] == ["c-1", "c-2", "c-3", "c-4"]
    assert tracking.json()["courier_status"]["location"] == "Front door"

    # And another seller finds no such order, nor its tracking
    other = Portal(stack.api_url, new_seller())
    for path in (f"/orders/{order_id}/tracking", f"/orders/{order_id}"):
        assert other.request("GET", path).status_code == 404

    # And the topic, the channel and the feed each carried one event per change: IN_TRANSIT (the first
    # batch's newest), then DELIVERED; the late OUT_FOR_DELIVERY and the re-sent batch told nobody
    def courier_events(found: list[dict]) -> list[tuple[str, str]]:
        return [(n["event_id"], n["courier_status"]["status"]) for n in found if n["event_type"] == COURIER_EVENT]

    expected = [(f"{order_id}:4", "IN_TRANSIT"), (f"{order_id}:5", "DELIVERED")]
    topic = wait_for(portal.notifications, lambda found: len(courier_events(found)) >= 2, timeout=20)
    assert sorted(courier_events(topic)) == expected
    delivered = wait_for(lambda: receiver.of("/courier"), lambda found: len(found) >= 2, timeout=20)
    assert sorted((d.event_id, d.body["courier_status"]["status"]) for d in delivered) == expected
    assert all(d.signature_valid for d in delivered)
    feed = wait_for(
        lambda: portal.request("GET", "/notifications").json()["notifications"],
        lambda found: len(courier_events(found)) >= 2,
        timeout=20,
    )
    assert sorted(courier_events(feed)) == expected
    # (nothing more comes: a moment later, still two of each)
    assert len(courier_events(portal.notifications())) == 2 and len(receiver.of("/courier")) == 2


def test_events_for_an_order_not_despatched_are_409_and_an_unknown_order_404(portal: Portal, warehouse: Warehouse):
    order = portal.create_order()
    event = {"event_id": "x", "status": "IN_TRANSIT", "occurred_at": at(1)}
    refused = send(warehouse, order["order_id"], event)
    assert refused.status_code == 409 and refused.json()["code"] == "ORDER_NOT_DESPATCHED"
    portal.request("POST", f"/orders/{order['order_id']}/cancel")
    assert send(warehouse, order["order_id"], event).json()["code"] == "ORDER_CANCELLED"
    assert send(warehouse, "ord_" + "b" * 26, event).status_code == 404


def test_a_seller_cannot_send_tracking_events(portal: Portal, warehouse: Warehouse):
    order = despatched(portal, warehouse)
    event = {"event_id": "x", "status": "DELIVERED", "occurred_at": at(1)}
    answer = portal.request("POST", f"/warehouse/orders/{order['order_id']}/tracking-events", {"events": [event]})
    assert answer.status_code == 403
    assert portal.request("GET", f"/orders/{order['order_id']}").json()["courier_status"] is None


def test_the_local_carrier_moves_a_despatched_order_along_through_the_warehouse_route(
    stack: RunningStack, warehouse: Warehouse
):
    portal = Portal(stack.api_url, new_seller())
    order_id = despatched(portal, warehouse)["order_id"]
    statuses = []
    for _ in range(4):
        turn = portal.http.post(f"{stack.api_url}/_local/carrier", params={"seller_id": portal.seller_id}, timeout=30)
        assert turn.status_code == 200, turn.text
        statuses.append((portal.request("GET", f"/orders/{order_id}").json()["courier_status"] or {}).get("status"))
    assert statuses == ["IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED", "DELIVERED"]
    events = portal.request("GET", f"/orders/{order_id}/tracking").json()["events"]
    assert [e["status"] for e in events] == ["IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]
    assert all(e["event_id"].startswith(f"local-carrier-{order_id}-") for e in events)
