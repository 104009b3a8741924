"""The tracking rules of docs/api.md §12, on plain values: the catalogue, status normalisation, ordering, the bound."""

from __future__ import annotations

import itertools

import pytest

from orders import couriers
from orders.couriers import CourierStatus, normalise_status, tracking_url
from orders.domain import ALL_STATES, OrderStatus, Refusal, tracking_refusal
from orders.tracking import MAX_KEPT, EventRecord, courier_status, merge, status_changes


def event(event_id: str, status: str, at: str, location: str | None = None) -> EventRecord:
    return {"event_id": event_id, "status": status, "occurred_at": f"2026-12-01T{at}:00.000000Z", "location": location}


# -- the catalogue ---------------------------------------------------------------------------------


def test_the_catalogue_holds_the_eight_codes_of_the_contract():
    assert set(couriers.SERVICE_CODES) >= {
        "ROYAL_MAIL_24",
        "ROYAL_MAIL_48",
        "ROYAL_MAIL_TRACKED_24",
        "ROYAL_MAIL_TRACKED_48",
        "DPD_NEXT_DAY",
        "EVRI_48",
        "DHL_EXPRESS",
        "UPS_STANDARD",
    }
    for service in couriers.COURIER_SERVICES:
        assert service.tracking_url_template.startswith("https://")
        assert service.tracking_url_template.count(couriers.TRACKING_NUMBER) == 1


def test_a_tracking_url_is_the_template_with_the_number_percent_encoded():
    assert tracking_url("DPD_NEXT_DAY", "1550 0000/1?x") == "https://track.dpd.co.uk/parcels/1550%200000%2F1%3Fx"
    assert tracking_url("DPD_NEXT_DAY", None) is None
    assert tracking_url("PIGEON_POST", "123") is None  # an order from before the catalogue


def test_the_nine_statuses_each_have_a_title_a_meaning_and_whether_final():
    assert [meaning.status for meaning in couriers.COURIER_STATUSES] == list(CourierStatus)
    assert {meaning.status for meaning in couriers.COURIER_STATUSES if meaning.final} == {
        CourierStatus.DELIVERED,
        CourierStatus.RETURNED_TO_SENDER,
    }
    assert all(meaning.title and meaning.meaning.endswith(".") for meaning in couriers.COURIER_STATUSES)


@pytest.mark.parametrize(
    ("said", "status"),
    [
        ("IN_TRANSIT", CourierStatus.IN_TRANSIT),
        ("InTransit", CourierStatus.IN_TRANSIT),
        ("in transit", CourierStatus.IN_TRANSIT),
        ("out-for-delivery", CourierStatus.OUT_FOR_DELIVERY),
        ("AttemptFail", CourierStatus.ATTEMPTED_DELIVERY),
        ("AvailableForPickup", CourierStatus.AVAILABLE_FOR_PICKUP),
        ("InfoReceived", CourierStatus.INFO_RECEIVED),
        ("Pending", CourierStatus.INFO_RECEIVED),
        ("Delivered", CourierStatus.DELIVERED),
        ("Exception", CourierStatus.EXCEPTION),
        ("return to sender", CourierStatus.RETURNING_TO_SENDER),
        ("RETURNED_TO_SENDER", CourierStatus.RETURNED_TO_SENDER),
        ("Lost in space", None),
        ("", None),
    ],
)
def test_a_carriers_word_is_normalised_to_one_of_the_nine(said, status):
    assert normalise_status(said) == status


def test_every_status_normalises_to_itself():
    assert all(normalise_status(status.value) == status for status in CourierStatus)


# -- which orders take events ------------------------------------------------------------------------


def test_only_a_despatched_order_takes_tracking_events():
    for state in ALL_STATES:
        expected = {
            OrderStatus.DESPATCHED: None,
            OrderStatus.CANCELLED: Refusal.ORDER_CANCELLED,
        }.get(state.status, Refusal.ORDER_NOT_DESPATCHED)
        assert tracking_refusal(state) == expected, state


# -- merging a batch into the timeline -----------------------------------------------------------------


JOURNEY = [
    event("a", "INFO_RECEIVED", "08:00"),
    event("b", "IN_TRANSIT", "09:00", "Leeds"),
    event("c", "OUT_FOR_DELIVERY", "10:00", "York"),
    event("d", "DELIVERED", "11:00", "York"),
]


def test_the_timeline_is_the_same_whatever_order_and_batches_the_events_come_in():
    expected = [e["event_id"] for e in JOURNEY]
    for arrival in itertools.permutations(JOURNEY):
        held: list[EventRecord] = []
        for one in arrival:
            held = merge(held, [one]).kept
        assert [e["event_id"] for e in held] == expected
        assert merge([], list(arrival)).kept == held


def test_an_event_already_held_changes_nothing_even_when_its_copy_differs():
    held = merge([], JOURNEY).kept
    again = merge(held, [*JOURNEY, {**JOURNEY[1], "status": "EXCEPTION", "location": "Mars"}])
    assert not again.changed and again.added == [] and again.kept == held


def test_a_batch_naming_an_event_twice_keeps_the_first():
    merged = merge([], [event("x", "IN_TRANSIT", "09:00"), event("x", "DELIVERED", "10:00")])
    assert [(e["event_id"], e["status"]) for e in merged.kept] == [("x", "IN_TRANSIT")]


def test_at_the_same_instant_a_final_status_comes_last():
    same = [event("z", "IN_TRANSIT", "09:00"), event("a", "DELIVERED", "09:00")]
    assert merge([], same).newest == same[1]
    assert merge([], list(reversed(same))).newest == same[1]


def test_beyond_100_events_the_oldest_go_and_the_newest_stays():
    held = merge([], [event(f"e{n:03}", "IN_TRANSIT", f"{n // 60:02}:{n % 60:02}") for n in range(MAX_KEPT)]).kept
    merged = merge(held, [event("new", "DELIVERED", "23:00"), event("old", "IN_TRANSIT", "00:00")])
    assert len(merged.kept) == MAX_KEPT
    assert merged.dropped == ["e000", "old"]  # the same minute and status: by id, "e000" < "old"
    assert merged.added == ["new"] and merged.newest is not None and merged.newest["event_id"] == "new"


def test_an_event_older_than_the_100_kept_changes_nothing():
    held = merge([], [event(f"e{n:03}", "IN_TRANSIT", f"10:{n % 60:02}") for n in range(MAX_KEPT)]).kept
    merged = merge(held, [event("ancient", "INFO_RECEIVED", "01:00")])
    assert not merged.changed and merged.dropped == ["ancient"]


# -- when the order's courier status moves ------------------------------------------------------------


def test_the_courier_status_moves_only_to_a_newer_event_of_another_status():
    in_transit, delivered = courier_status(JOURNEY[1]), courier_status(JOURNEY[3])
    assert status_changes(None, JOURNEY[0])
    assert status_changes(in_transit, JOURNEY[3])
    assert not status_changes(in_transit, event("b2", "IN_TRANSIT", "09:30", "Wakefield"))  # a scan, not a change
    assert not status_changes(delivered, JOURNEY[1])  # a late IN_TRANSIT never downgrades a DELIVERED
    assert not status_changes(delivered, event("d2", "IN_TRANSIT", "11:00"))  # nor one of the same instant
    assert not status_changes(in_transit, None)
