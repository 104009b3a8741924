"""Tracking through the functions (real API Gateway events), batches racing at the store, the stream telling once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from orders.dynamodb import now, timestamp
from orders.handlers import notifier
from orders.models import TrackingEventsBody
from orders.tracking_store import TrackingStore
from tests.support.api import Reply, SellerPortal, invoke
from tests.support.notifications import received, stream_poller, subscribe_queue
from tests.support.threads import run_together

TRACKING = "/warehouse/orders/{order_id}/tracking-events"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def scan(event_id: str, status: str, minutes: int, **extra: str) -> dict:
    return {"event_id": event_id, "status": status, "occurred_at": at(minutes), **extra}


def track(order_id: str, *events: dict, body: object = None) -> Reply:
    return invoke(
        "POST",
        TRACKING,
        path_parameters={"order_id": order_id},
        body=body if body is not None else {"events": list(events)},
        warehouse=True,
    )


def tracking(order_id: str, seller_id: str = "S-1") -> Reply:
    return invoke("GET", "/orders/{order_id}/tracking", path_parameters={"order_id": order_id}, seller_id=seller_id)


@pytest.fixture
def portal(aws) -> SellerPortal:
    return SellerPortal("S-1")


def despatched(portal: SellerPortal, reference: str, courier: str = "DPD_NEXT_DAY") -> dict:
    order = portal.create(reference, courier_service=courier).body
    for status in ("SENT_TO_WAREHOUSE", "DESPATCHED"):
        body = {"status": status, "tracking_number": "1550 0001"}
        reply = invoke(
            "POST",
            "/warehouse/orders/{order_id}/status",
            path_parameters={"order_id": order["order_id"]},
            body=body,
            warehouse=True,
        )
        assert reply.status == 200, reply.body
    return reply.body


# -- the routes ---------------------------------------------------------------------------------------


def test_the_catalogue_and_the_statuses_are_served(portal):
    services = invoke("GET", "/courier-services", seller_id="S-1")
    statuses = invoke("GET", "/courier-statuses", seller_id="S-1")

    assert services.status == statuses.status == 200
    codes = [service["code"] for service in services.body["courier_services"]]
    assert "ROYAL_MAIL_TRACKED_24" in codes and len(codes) == len(set(codes)) >= 8
    assert set(services.body["courier_services"][0]) == {"code", "name", "carrier", "tracking_url_template"}
    assert [s["status"] for s in statuses.body["courier_statuses"]][-1] == "RETURNED_TO_SENDER"
    assert set(statuses.body["courier_statuses"][0]) == {"status", "title", "meaning", "final"}


@pytest.mark.parametrize("method", ["create", "edit"])
def test_an_unlisted_courier_service_is_400_naming_the_field(portal, method):
    if method == "create":
        reply = portal.create("SHOP-1", courier_service="PIGEON_POST")
    else:
        order = portal.create("SHOP-1").body
        reply = invoke(
            "PATCH",
            "/orders/{order_id}",
            path_parameters={"order_id": order["order_id"]},
            body={"courier_service": "royal_mail_48"},
            seller_id="S-1",
        )
    assert reply.status == 400 and reply.code == "VALIDATION_ERROR"
    assert [error["field"] for error in reply.body["errors"]] == ["courier_service"]


def test_events_in_move_the_courier_status_and_the_seller_sees_the_timeline(portal):
    order = despatched(portal, "SHOP-1")
    assert order["courier_status"] is None
    assert order["tracking_url"] == "https://track.dpd.co.uk/parcels/1550%200001"

    reply = track(
        order["order_id"],
        scan("e2", "OutForDelivery", 90, location="York"),
        scan("e1", "IN_TRANSIT", 30, location="Leeds", description="At the hub"),
    )

    assert reply.status == 200
    assert reply.headers["ETag"] == '"4"'
    assert reply.body["courier_status"] == {
        "status": "OUT_FOR_DELIVERY",
        "occurred_at": timestamp(START + timedelta(minutes=90)),
        "location": "York",
        "description": None,
    }
    assert reply.body["history"][-1]["event"] == "COURIER_STATUS_CHANGED"
    listed = portal.list().body["orders"][0]
    assert listed["courier_status"]["status"] == "OUT_FOR_DELIVERY" and listed["tracking_url"] == order["tracking_url"]
    page = tracking(order["order_id"])
    assert page.status == 200
    assert [e["event_id"] for e in page.body["events"]] == ["e1", "e2"]
    assert page.body["events"][0]["description"] == "At the hub"
    assert {k: page.body[k] for k in ("order_id", "courier_service", "tracking_number", "tracking_url")} == {
        "order_id": order["order_id"],
        "courier_service": "DPD_NEXT_DAY",
        "tracking_number": "1550 0001",
        "tracking_url": order["tracking_url"],
    }


def test_another_sellers_tracking_is_404_as_if_absent(portal):
    order = despatched(portal, "SHOP-1")
    track(order["order_id"], scan("e1", "IN_TRANSIT", 1))
    theirs = tracking(order["order_id"], seller_id="S-2")
    missing = tracking("ord_" + "a" * 26, seller_id="S-2")
    assert theirs.status == missing.status == 404
    assert theirs.code == missing.code == "ORDER_NOT_FOUND"


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ((), "ORDER_NOT_DESPATCHED"),
        (("SENT_TO_WAREHOUSE", "PACKED"), "ORDER_NOT_DESPATCHED"),
        (None, "ORDER_CANCELLED"),
    ],
)
def test_events_for_an_order_not_despatched_are_409(portal, path, code):
    order = portal.create("SHOP-1").body
    if path is None:
        portal.send("cancel", order["order_id"])
    for status in path or ():
        portal.send(status, order["order_id"])
    reply = track(order["order_id"], scan("e1", "IN_TRANSIT", 1))
    assert reply.status == 409 and reply.code == code
    assert reply.body["order_status"] == ("CANCELLED" if path is None else (path[-1] if path else "PENDING"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "events"),
        ({"events": [scan(f"e{n}", "IN_TRANSIT", n) for n in range(51)]}, "events"),
        ({"events": [scan("e1", "TELEPORTED", 1)]}, "events[0].status"),
        ({"events": [{**scan("e1", "IN_TRANSIT", 1), "occurred_at": "2026-12-01T09:00:00"}]}, "events[0].occurred_at"),
        ({"events": [{**scan("e1", "IN_TRANSIT", 1), "occurred_at": "2026-02-30T09:00:00Z"}]}, "events[0].occurred_at"),
        ({"events": [{**scan("e1", "IN_TRANSIT", 1), "occurred_at": 1764579600}]}, "events[0].occurred_at"),
        ({"events": [{**scan("e1", "IN_TRANSIT", 1), "occurred_at": "2099-01-01T00:00:00Z"}]}, "events[0].occurred_at"),
        ({"events": [{**scan("e1", "IN_TRANSIT", 1), "location": "\x00"}]}, "events[0].location"),
        ({"events": [{**scan("e1", "IN_TRANSIT", 1), "extra": 1}]}, "events[0].extra"),
        ({"events": [{**scan("e1", "IN_TRANSIT", 1), "event_id": ""}]}, "events[0].event_id"),
    ],
)
def test_bad_events_are_400_naming_the_field_and_change_nothing(portal, body, field):
    order = despatched(portal, "SHOP-1")
    reply = track(order["order_id"], body=body)
    assert reply.status == 400 and reply.code == "VALIDATION_ERROR", reply.body
    assert field in [error["field"] for error in reply.body["errors"]]
    assert portal.get(order["order_id"]).body["version"] == order["version"]


def test_an_event_up_to_an_hour_ahead_is_taken(portal):
    order = despatched(portal, "SHOP-1")
    soon = (datetime.now(UTC) + timedelta(minutes=50)).isoformat()
    assert track(order["order_id"], {"event_id": "e1", "status": "DELIVERED", "occurred_at": soon}).status == 200


# -- two batches racing -----------------------------------------------------------------------------
# At the store, as tests/integration/test_races.py races commands: the functions' module state (the
# resolver's current event) is per process, and Lambda never runs two invocations in one process.


@pytest.mark.parametrize("round_", range(10))
def test_two_batches_racing_for_one_order_end_with_the_newest_status_and_every_event(portal, round_):
    order = despatched(portal, f"SHOP-{round_}")
    store = TrackingStore()

    def records(batch: list[dict]) -> list[dict]:
        return TrackingEventsBody.model_validate({"events": batch}).records(now())

    first = records([scan(f"a{n}", "IN_TRANSIT", n) for n in range(20)])
    second = records(
        [scan(f"b{n}", "OUT_FOR_DELIVERY", 100 + n) for n in range(5)] + [scan("b-final", "DELIVERED", 200)]
    )
    answers: list[object] = []
    start = threading.Barrier(2)

    def send(batch: list[dict]) -> None:
        start.wait()
        answers.append(store.add(order["order_id"], batch))

    run_together(lambda: send(first), lambda: send(second))

    assert len(answers) == 2  # neither raised (no 503: one retry is enough for two)
    page = tracking(order["order_id"]).body
    assert len(page["events"]) == 26 and page["events"][-1]["event_id"] == "b-final"
    stored = portal.get(order["order_id"]).body
    assert stored["courier_status"]["status"] == "DELIVERED"
    changes = [entry for entry in stored["history"] if entry["event"] == "COURIER_STATUS_CHANGED"]
    assert len(changes) in (1, 2) and stored["version"] == order["version"] + len(changes)


# -- told once per change -------------------------------------------------------------------------------


def test_each_courier_status_change_is_told_once_even_when_batches_are_sent_again(portal, notification_channels):
    everything = subscribe_queue(notification_channels.topic_arn, "everything")
    order = despatched(portal, "SHOP-1")
    journey = [
        [scan("e1", "IN_TRANSIT", 10), scan("e2", "IN_TRANSIT", 20, location="Leeds")],
        [scan("e3", "OUT_FOR_DELIVERY", 30)],
        [scan("e2", "IN_TRANSIT", 20), scan("e0", "INFO_RECEIVED", 1)],  # a re-sent scan and a late one
        [scan("e4", "DELIVERED", 40)],
        [scan("e4", "DELIVERED", 40), scan("e3", "OUT_FOR_DELIVERY", 30)],  # the same batch again
    ]
    for batch in journey:
        assert track(order["order_id"], *batch).status == 200
    stream_poller(notification_channels, notifier.handler).poll_once()

    told = [d for d in received(everything) if d.body["order_id"] == order["order_id"]]
    assert [(d.body["event_type"], d.body["courier_status"]["status"]) for d in told] == [
        ("COURIER_STATUS_CHANGED", "IN_TRANSIT"),
        ("COURIER_STATUS_CHANGED", "OUT_FOR_DELIVERY"),
        ("COURIER_STATUS_CHANGED", "DELIVERED"),
    ]
    assert [d.body["event_id"] for d in told] == [f"{order['order_id']}:{v}" for v in (4, 5, 6)]
    assert told[0].attributes["event_type"] == ("String", "COURIER_STATUS_CHANGED")
