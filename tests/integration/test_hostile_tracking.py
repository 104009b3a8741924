"""A hostile warehouse and seller against tracking (docs/api.md §12), through the real functions on moto:
odd times, duplicate and late events, odd bytes, requests counted at the functions' client."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.test_tracking import TRACKING, at, despatched, scan, track, tracking
from tests.support.api import SellerPortal, invoke


@pytest.fixture
def portal(aws) -> SellerPortal:
    return SellerPortal("S-1")


@pytest.mark.parametrize(
    "spelling",
    [
        "0001-01-01T00:30:00+01:00",  # before year 1 once in UTC
        "0001-01-01T00:00:00+23:59",
        "2026-12-31T23:59:60Z",  # a leap second: Python has none
        "2026-06-01T09:00:00+24:00",
        "2026-06-01T09:00:00+05:60",
        "2026-06-01T24:00:00Z",
        "9999-12-31T23:59:59-23:59",  # after year 9999 once in UTC
        "2026-06-01T09:00:00.1234567Z",
        "2026-06-01t09:00:00z",
        "2026-06-01T09:00:00\u00a0Z",
        "２０２６-06-01T09:00:00Z",  # full-width digits
    ],
)
def test_a_warehouse_sending_an_impossible_occurred_at_gets_a_400_naming_it(portal, spelling):
    order = despatched(portal, "SHOP-1")
    reply = track(order["order_id"], {"event_id": "e1", "status": "IN_TRANSIT", "occurred_at": spelling})
    assert (reply.status, reply.code) == (400, "VALIDATION_ERROR"), reply.body
    assert "events[0].occurred_at" in [error["field"] for error in reply.body["errors"]]
    assert portal.get(order["order_id"]).body["version"] == order["version"]


@pytest.mark.parametrize(
    ("spelling", "stored"),
    [
        ("2026-06-01T23:30:00-14:00", "2026-06-02T13:30:00.000000Z"),
        ("2026-06-01T09:30:00+14:00", "2026-05-31T19:30:00.000000Z"),
        ("2026-06-01T09:30:00.5+01:00", "2026-06-01T08:30:00.500000Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000000Z"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z"),
    ],
)
def test_a_warehouse_sending_any_offset_gets_it_stored_in_utc(portal, spelling, stored):
    order = despatched(portal, "SHOP-1")
    reply = track(order["order_id"], {"event_id": "e1", "status": "IN_TRANSIT", "occurred_at": spelling})
    assert reply.status == 200, reply.body
    assert reply.body["courier_status"]["occurred_at"] == stored


@pytest.mark.parametrize(("seconds", "status"), [(3600 - 5, 200), (3600 + 5, 400)])
def test_an_event_an_hour_ahead_give_or_take_seconds(portal, seconds, status):
    order = despatched(portal, "SHOP-1")
    ahead = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
    assert track(order["order_id"], {"event_id": "e1", "status": "IN_TRANSIT", "occurred_at": ahead}).status == status


def test_a_batch_of_50_with_49_held_costs_one_read_and_one_write(portal, dynamodb_calls):
    order = despatched(portal, "SHOP-1")
    held = [scan(f"e{n}", "IN_TRANSIT", n) for n in range(49)]
    assert track(order["order_id"], *held).status == 200
    dynamodb_calls.clear()

    reply = track(order["order_id"], *held, scan("new", "IN_TRANSIT", 60))

    assert reply.status == 200
    assert dynamodb_calls == {"BatchGetItem": 1, "PutItem": 1}
    assert reply.body["version"] == order["version"] + 1  # the status did not change: the order was not written
    events = tracking(order["order_id"]).body["events"]
    assert len(events) == 50 and events[-1]["event_id"] == "new"


def test_a_batch_of_50_one_id_fifty_times_keeps_the_first_copy(portal):
    order = despatched(portal, "SHOP-1")
    batch = [{**scan("same", status, n), "location": f"Depot {n}"} for n, status in enumerate(["DELIVERED"] * 50)]
    batch[0]["status"] = "IN_TRANSIT"
    assert track(order["order_id"], *batch).status == 200
    [event] = tracking(order["order_id"]).body["events"]
    assert (event["status"], event["location"]) == ("IN_TRANSIT", "Depot 0")


def test_the_same_event_id_with_other_content_later_changes_nothing(portal, dynamodb_calls):
    order = despatched(portal, "SHOP-1")
    first = track(order["order_id"], scan("e1", "IN_TRANSIT", 1)).body
    dynamodb_calls.clear()
    again = track(order["order_id"], scan("e1", "DELIVERED", 90, location="Doorstep"))
    assert again.status == 200 and again.body == first
    assert dynamodb_calls == {"BatchGetItem": 1}


@pytest.mark.parametrize("late", ["IN_TRANSIT", "OUT_FOR_DELIVERY", "EXCEPTION", "INFO_RECEIVED"])
def test_a_delivered_order_is_not_downgraded_by_an_older_or_same_instant_event(portal, late, dynamodb_calls):
    order = despatched(portal, "SHOP-1")
    delivered = track(order["order_id"], scan("d", "DELIVERED", 10)).body
    for n, minutes in enumerate((9, 10)):
        dynamodb_calls.clear()
        reply = track(order["order_id"], scan(f"late{n}", late, minutes))
        assert reply.status == 200 and reply.body["courier_status"]["status"] == "DELIVERED"
        assert reply.body["version"] == delivered["version"]
        assert dynamodb_calls == {"BatchGetItem": 1, "PutItem": 1}
    assert tracking(order["order_id"]).body["courier_status"]["status"] == "DELIVERED"


def test_same_instant_delivered_and_in_transit_in_one_batch_end_delivered_whatever_their_order(portal):
    one = despatched(portal, "SHOP-1")
    two = despatched(portal, "SHOP-2")
    assert track(one["order_id"], scan("z", "DELIVERED", 5), scan("a", "IN_TRANSIT", 5)).status == 200
    assert track(two["order_id"], scan("a", "IN_TRANSIT", 5), scan("z", "DELIVERED", 5)).status == 200
    assert portal.get(one["order_id"]).body["courier_status"]["status"] == "DELIVERED"
    assert portal.get(two["order_id"]).body["courier_status"]["status"] == "DELIVERED"


def test_an_event_older_than_the_100_kept_changes_nothing_and_the_newest_stays(portal, dynamodb_calls):
    order = despatched(portal, "SHOP-1")
    for batch in range(2):
        events = [scan(f"e{batch}-{n}", "IN_TRANSIT", 10 + batch * 50 + n) for n in range(50)]
        assert track(order["order_id"], *events).status == 200
    assert track(order["order_id"], scan("last", "DELIVERED", 500)).status == 200
    view = tracking(order["order_id"]).body
    assert len(view["events"]) == 100 and view["dropped_events"] == 1
    assert view["events"][0]["event_id"] == "e0-1" and view["events"][-1]["event_id"] == "last"
    dynamodb_calls.clear()

    reply = track(order["order_id"], scan("ancient", "INFO_RECEIVED", 0), scan("e0-0", "IN_TRANSIT", 10))

    assert reply.status == 200 and dynamodb_calls == {"BatchGetItem": 1}
    assert tracking(order["order_id"]).body == view


@pytest.mark.parametrize(
    "text",
    [
        "Zürich ☃ 🚚 דואר \u202egnp.exe",  # accents, emoji, right-to-left override
        "🚚" * 200,  # 200 characters, 800 bytes
        "\ufeffBOM",
        "'; DROP TABLE orders; --",
        "<script>alert(1)</script>",
        "\\u0000 written out",
    ],
)
def test_odd_but_printable_location_and_description_come_back_as_sent(portal, text):
    order = despatched(portal, "SHOP-1")
    event = {**scan("e1", "IN_TRANSIT", 1), "location": text, "description": text}
    assert track(order["order_id"], event).status == 200
    [shown] = tracking(order["order_id"]).body["events"]
    assert (shown["location"], shown["description"]) == (text, text)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("location", "\ud800"),  # a lone surrogate: not UTF-8 at all
        ("description", "a\udfffb"),
        ("location", "🚚" * 201),
        ("location", " \u2028 "),
        ("description", "\x1b[31mred"),
        ("event_id", "\ud83d"),
    ],
)
def test_bytes_that_are_not_text_are_a_400_naming_the_field_never_a_500(portal, field, text):
    order = despatched(portal, "SHOP-1")
    reply = track(order["order_id"], {**scan("e1", "IN_TRANSIT", 1), field: text})
    assert (reply.status, reply.code) == (400, "VALIDATION_ERROR"), reply.body
    assert f"events[0].{field}" in [error["field"] for error in reply.body["errors"]]


def test_tracking_another_sellers_order_is_404_byte_for_byte_as_an_absent_one(portal):
    theirs = despatched(SellerPortal("S-2"), "SECRET")
    track(theirs["order_id"], scan("e1", "IN_TRANSIT", 1))
    absent = "ord_" + "b" * 26
    seen, missing = tracking(theirs["order_id"]), tracking(absent)
    assert seen.status == missing.status == 404
    assert seen.headers.get("Content-Type") == missing.headers.get("Content-Type")
    assert json.dumps(seen.body, sort_keys=True) == json.dumps(missing.body, sort_keys=True).replace(
        absent, theirs["order_id"]
    )


def test_tracking_an_order_split_off_another_once_despatched(portal):
    lines = [{"sku": "MUG-WHITE", "quantity": 2}, {"sku": "TEE-BLUE", "quantity": 1}]
    order = portal.create("SHOP-9", items=lines).body
    body = {"status": "ON_BACKORDER", "backordered_items": [{"line": 2, "sku": "TEE-BLUE", "quantity": 1}]}
    warehouse = "/warehouse/orders/{order_id}/status"
    assert invoke("POST", warehouse, path_parameters={"order_id": order["order_id"]}, body=body, warehouse=True).status
    split = invoke("POST", "/orders/{order_id}/split", path_parameters={"order_id": order["order_id"]}, seller_id="S-1")
    assert split.status == 201, split.body
    part = split.body["in_stock"]["order_id"]
    # the original waits on backorder: no tracking
    refused = track(order["order_id"], scan("e0", "IN_TRANSIT", 1))
    assert (refused.status, refused.code) == (409, "ORDER_NOT_DESPATCHED")
    for status in ("SENT_TO_WAREHOUSE", "DESPATCHED"):
        moved = invoke(
            "POST",
            warehouse,
            path_parameters={"order_id": part},
            body={"status": status, "tracking_number": "JD0002"},
            warehouse=True,
        )
        assert moved.status == 200, moved.body
    reply = track(part, scan("e1", "IN_TRANSIT", 1), scan("e2", "DELIVERED", 2))
    assert reply.status == 200 and reply.body["courier_status"]["status"] == "DELIVERED"
    assert reply.body["split_from"] == order["order_id"]
    assert [e["event_id"] for e in tracking(part).body["events"]] == ["e1", "e2"]
    assert tracking(order["order_id"]).body["events"] == []


def test_a_timeline_of_100_events_each_as_large_as_allowed_in_4_byte_characters_still_takes_events(portal):
    """§15: the timeline's item must stay under DynamoDB's 400 KB whatever the events hold. Characters of
    4 bytes in UTF-8 make each event's id, location and description four times their length in bytes."""
    from tests.support.api import function_for
    from tests.support.events import LambdaContext, rest_event

    order = despatched(portal, "SHOP-1")

    def event(n: int) -> dict:
        return {
            "event_id": f"{n:03}" + "🚚" * 61,
            "status": "IN_TRANSIT",
            "occurred_at": at(n),
            "location": "🚚" * 200,
            "description": "🚚" * 500,
        }

    for start in range(0, 101, 20):
        batch = {"events": [event(n) for n in range(start, min(start + 20, 101))]}
        raw = json.dumps(batch, ensure_ascii=False)
        assert len(raw.encode()) <= 64 * 1024
        reply = function_for("POST", TRACKING)(
            rest_event("POST", TRACKING, path_parameters={"order_id": order["order_id"]}, raw_body=raw, warehouse=True),
            LambdaContext(),
        )
        assert reply["statusCode"] == 200, reply["body"]
    view = tracking(order["order_id"]).body
    assert len(view["events"]) == 100 and view["dropped_events"] == 1
    assert track(order["order_id"], scan("last", "DELIVERED", 200)).status == 200
