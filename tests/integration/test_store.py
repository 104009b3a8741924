"""orders.store against moto, the table created from template.yaml's own definition."""

from __future__ import annotations

import base64
import json

import pytest

from orders.domain import WAREHOUSE, Action, Details, OrderStatus, Refusal, Seller
from orders.dynamodb import InvalidPageToken
from orders.settings import dynamodb
from orders.store import OrderNotFound, OrderStore, PreconditionFailed, RefusalError
from tests.hardening.figures import FIGURES
from tests.support.api import NEW_ORDER
from tests.support.commands import ACTIONS, SELLER_COMMANDS, details_for
from tests.support.contract import PATHS

SELLER = Seller("S-1")


@pytest.fixture
def store(aws):
    return OrderStore()


def new_order(store: OrderStore, reference: str, seller: str = "S-1") -> dict:
    order, created = store.create(seller, {"reference": reference, **NEW_ORDER})
    assert created
    return order


def drive(store: OrderStore, order_id: str, state_name: str) -> None:
    for command in PATHS[state_name]:
        caller = SELLER if command in SELLER_COMMANDS else WAREHOUSE
        details = details_for(command)
        store.apply(order_id, ACTIONS[command], caller, details)


def test_create_is_idempotent_on_the_sellers_reference_in_one_request(store, dynamodb_calls):
    first = new_order(store, "SHOP-1001")
    again, created = store.create("S-1", {"reference": "SHOP-1001", **NEW_ORDER, "courier_service": "OTHER"})

    assert not created
    assert again == first  # the existing order, not the new body
    assert dynamodb_calls == {"PutItem": 2}
    other_seller, created = store.create("S-2", {"reference": "SHOP-1001", **NEW_ORDER})
    assert created and other_seller["order_id"] != first["order_id"]


def test_an_order_is_invisible_to_other_sellers(store):
    order = new_order(store, "SHOP-1")
    with pytest.raises(OrderNotFound):
        store.get(order["order_id"], Seller("S-2"))
    with pytest.raises(OrderNotFound):
        store.apply(order["order_id"], Action.CANCEL, Seller("S-2"))
    assert store.get(order["order_id"], SELLER)["status"] == "PENDING"


def test_a_command_on_a_missing_order_is_not_found_and_creates_nothing(store):
    with pytest.raises(OrderNotFound):
        store.apply("ord_" + "a" * 26, Action.move_to(OrderStatus.PICKED), WAREHOUSE)
    assert dynamodb().scan(TableName=store.table_name)["Count"] == 0


def test_a_refusal_carries_the_order_as_it_stood(store):
    order = new_order(store, "SHOP-2")
    drive(store, order["order_id"], "DESPATCHED/-")
    with pytest.raises(RefusalError) as refusal:
        store.apply(order["order_id"], Action.CANCEL, SELLER)
    assert refusal.value.refusal == Refusal.ORDER_DESPATCHED
    assert refusal.value.order == store.get(order["order_id"], SELLER)


def test_history_records_one_entry_per_change_with_who_and_when(store):
    order = new_order(store, "SHOP-3")
    drive(store, order["order_id"], "DESPATCHED/REJECTED")
    stored = store.get(order["order_id"], SELLER)
    assert [(e["event"], e.get("to_status"), e["by"]) for e in stored["history"]] == [
        ("ORDER_CREATED", "PENDING", "seller:S-1"),
        ("STATUS_CHANGED", "SENT_TO_WAREHOUSE", "warehouse"),
        ("CANCELLATION_REQUESTED", None, "seller:S-1"),
        ("CANCELLATION_REJECTED", "DESPATCHED", "warehouse"),
    ]
    assert stored["version"] == 4
    assert stored["cancellation_request"]["decision_reason_code"] == "ORDER_DESPATCHED"
    assert stored["updated_at"] == stored["history"][-1]["at"]


def test_tracking_number_is_written_with_the_move_that_carries_it(store):
    order = new_order(store, "SHOP-4")
    drive(store, order["order_id"], "PACKED/-")
    moved = store.apply(
        order["order_id"], Action.move_to(OrderStatus.DESPATCHED), WAREHOUSE, Details(tracking_number="RM123GB")
    ).order
    assert moved["tracking_number"] == "RM123GB"


def test_listing_is_newest_first_in_pages_with_an_optional_status(store, dynamodb_calls):
    ids = [new_order(store, f"LIST-{n}")["order_id"] for n in range(7)]
    new_order(store, "OTHER-SELLER", seller="S-2")
    for order_id in ids[::2]:
        store.apply(order_id, Action.CANCEL, SELLER)

    seen, token, pages = [], None, 0
    while True:
        page, token = store.list_for_seller("S-1", status=None, limit=3, page_token=token)
        seen += [o["order_id"] for o in page]
        pages += 1
        if token is None:
            break
    assert seen == ids[::-1] and pages == 3

    cancelled, token = store.list_for_seller("S-1", status="CANCELLED", limit=2, page_token=None)
    rest, last = store.list_for_seller("S-1", status="CANCELLED", limit=2, page_token=token)
    assert [o["order_id"] for o in cancelled + rest] == ids[::2][::-1] and last is None
    assert "Scan" not in dynamodb_calls


def test_a_page_token_that_was_not_issued_is_refused(store):
    empty_fields = base64.urlsafe_b64encode(json.dumps({"order_id": "", "created_at": ""}).encode()).decode()
    for token in ("not-base64!", "e30", "eyJvcmRlcl9pZCI6IDF9", empty_fields):
        with pytest.raises(InvalidPageToken):
            store.list_for_seller("S-1", status=None, limit=5, page_token=token)


@pytest.fixture
def two_thousand_orders(store):
    """Seller S-1 with 2,000 orders, all pending but for three of each other status; S-10 and S-1#x close by."""
    moved = {
        "CANCELLED": ["cancel"],
        "SENT_TO_WAREHOUSE": ["SENT_TO_WAREHOUSE"],
        "PICKED": ["SENT_TO_WAREHOUSE", "PICKED"],
        "PACKED": ["SENT_TO_WAREHOUSE", "PACKED"],
    }
    ids = [new_order(store, f"BULK-{n:04}")["order_id"] for n in range(2000)]
    by_status: dict[str, list[str]] = {status: [] for status in moved}
    for group, (status, commands) in enumerate(moved.items()):
        for order_id in ids[40 + 3 * group : 43 + 3 * group]:
            for command in commands:
                store.apply(order_id, ACTIONS[command], SELLER if command in SELLER_COMMANDS else WAREHOUSE)
            by_status[status].append(order_id)
    for lookalike in ("S-10", "S-1#x"):
        new_order(store, "LOOKALIKE", seller=lookalike)
        cancelled = store.create(lookalike, {"reference": "LOOKALIKE-2", **NEW_ORDER})[0]
        store.apply(cancelled["order_id"], Action.CANCEL, Seller(lookalike))
    return ids, by_status


def test_a_page_of_2000_orders_is_one_query_with_or_without_a_status(store, dynamodb_calls, two_thousand_orders):
    ids, by_status = two_thousand_orders
    pending = [i for i in ids if not any(i in moved for moved in by_status.values())]
    matching = {None: ids, "PENDING": pending, **by_status}
    pages_read = 0
    for status in [None, *OrderStatus]:
        for limit in (1, 25):
            expected = matching.get(status, [])
            dynamodb_calls.clear()

            # When the seller lists the first page, then follows next_token (at most 4 pages)
            pages, seen, token = 0, [], None
            while pages < 4:
                page, token = store.list_for_seller("S-1", status=status, limit=limit, page_token=token)
                pages += 1
                # Then each page is exactly one Query, holding only this seller's orders in that status
                assert dynamodb_calls == {"Query": pages}, (status, limit)
                assert {order["seller_id"] for order in page} <= {"S-1"}
                assert all(order["status"] == status for order in page) if status else True
                seen += [order["order_id"] for order in page]
                if token is None:
                    break

            # And the pages are newest first, full, and the last one has no token
            newest_first = sorted(expected, key=ids.index, reverse=True)
            assert seen == newest_first[: 4 * limit], (status, limit)
            assert (token is None) == (len(expected) <= 4 * limit), (status, limit)
            pages_read += pages
    FIGURES.note(
        "listing, 2,000 orders: DynamoDB requests per page",
        f"1 Query on each of {pages_read} pages (no filter and 6 status filters, limit 1 and 25)",
    )


def test_an_edit_is_one_request_whether_written_unchanged_refused_or_stale(store, dynamodb_calls):
    order = new_order(store, "EDIT-1")
    courier = {"courier_service": "DPD_NEXT_DAY"}

    def edit(details: Details) -> str:
        dynamodb_calls.clear()
        try:
            outcome = type(store.apply(order["order_id"], Action.EDIT, SELLER, details).outcome).__name__
        except (PreconditionFailed, RefusalError) as refused:
            outcome = type(refused).__name__
        assert dynamodb_calls == {"UpdateItem": 1}, outcome
        return outcome

    assert edit(Details(changes=courier, expected_versions=frozenset({1}))) == "Transition"
    assert edit(Details(changes=courier)) == "Unchanged"  # nothing differs: nothing written
    assert (
        edit(Details(changes={"courier_service": "EVRI_48"}, expected_versions=frozenset({1}))) == "PreconditionFailed"
    )
    store.apply(order["order_id"], Action.move_to(OrderStatus.SENT_TO_WAREHOUSE), WAREHOUSE)
    assert edit(Details(changes={"courier_service": "EVRI_48"})) == "RefusalError"
    stored = store.get(order["order_id"], SELLER)
    assert (stored["version"], stored["courier_service"]) == (3, "DPD_NEXT_DAY")
    assert [entry.get("changed") for entry in stored["history"]] == [None, ["courier_service"], None]


def test_an_edit_that_only_reorders_lines_is_an_edit(store):
    order, _ = store.create(
        "S-1",
        {"reference": "REORDER", **NEW_ORDER, "items": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 2}]},
    )
    reordered = {"items": [{"sku": "B", "quantity": 2}, {"sku": "A", "quantity": 1}]}
    applied = store.apply(order["order_id"], Action.EDIT, SELLER, Details(changes=reordered))
    assert applied.order["items"] == reordered["items"] and applied.order["version"] == 2
