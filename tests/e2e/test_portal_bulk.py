"""Cancel selected (docs/api.md §13) in the reference portal, in a real headless Chromium against `make run`'s
stack: the list's checkboxes, the dry run's summary in words, the choice to ask the warehouse, each order's
result with links to the orders that were not cancelled; at desktop and phone size."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.portal_page import accessibility_violations, codes_shown, out_of_reach
from tests.e2e.test_portal import (  # noqa: F401 - the fixtures, shared with the portal's other tests
    DESKTOP,
    PHONE,
    browser,
    in_warehouse,
    seller,
    visit,
    warehouse,
)
from tests.support.local_stack import wait_for


@pytest.mark.parametrize("visit", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_cancel_selected_says_what_will_happen_then_what_did(visit, seller, warehouse):  # noqa: F811
    pending = [seller.create_order() for _ in range(3)]
    picked = in_warehouse(seller, warehouse, "PICKED")
    despatched = in_warehouse(seller, warehouse, "DESPATCHED")
    kept = seller.create_order()  # on the page, not selected
    everything = [*pending, picked, despatched, kept]
    # The list is served by an index that may lag a write a moment: wait until it shows them all as they are.
    wait_for(
        lambda: {order["order_id"]: order["status"] for order in seller.request("GET", "/orders").json()["orders"]},
        lambda found: found.get(despatched["order_id"]) == "DESPATCHED" and len(found) == len(everything),
        10,
    )
    visit.sign_in(seller.seller_id)
    page = visit.page
    button = page.locator("#cancel-selected")
    expect(button).to_be_disabled()

    # Select all on this page, then leave one out.
    page.get_by_label("Select all on this page").check()
    expect(button).to_have_text(f"Cancel selected ({len(everything)})")
    page.get_by_label(f"Select order {kept['reference']}").uncheck()
    expect(button).to_have_text("Cancel selected (5)")
    assert page.locator("#select-all").evaluate("box => box.indeterminate")
    assert out_of_reach(page) == []
    button.click()

    # The dry run's summary, in words: nothing is changed yet.
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#dialog-title")).to_have_text("Cancel 5 orders?")
    intro = page.locator("#dialog-intro")
    expect(intro).to_contain_text("3 orders will be cancelled at once.")
    expect(intro).to_contain_text("1 order already in the warehouse can only be cancelled by request")
    expect(intro).to_contain_text("1 order cannot be cancelled (1: already despatched).")
    assert all(seller.request("GET", f"/orders/{o['order_id']}").json()["version"] == 1 for o in pending)
    assert codes_shown(page) == []
    assert out_of_reach(page) == []
    box = dialog.bounding_box()
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    serious = {k: v for k, v in accessibility_violations(page).items() if k in ("serious", "critical")}
    assert serious == {}, serious

    page.get_by_label("Ask the warehouse to cancel the order it has").check()
    page.get_by_label("Reason").select_option("FRAUD_SUSPECTED")
    page.get_by_role("button", name="Cancel the orders").click()

    # Each order's result; the ones not cancelled link to their page.
    expect(page.locator("#dialog-title")).to_have_text("Cancel selected: done")
    expect(page.locator("#dialog-intro")).to_have_text(
        "3 orders cancelled, 1 order sent to the warehouse as cancellation requests, 1 order could not be cancelled."
    )
    results = page.locator("#bulk-results li")
    expect(results).to_have_count(5)
    for order in pending:
        expect(page.locator(f"#bulk-result-{order['order_id']}")).to_have_text(f"{order['reference']}: Cancelled")
    expect(page.locator(f"#bulk-result-{picked['order_id']}")).to_have_text(
        f"{picked['reference']}: Cancellation requested from the warehouse"
    )
    refused = page.locator(f"#bulk-result-{despatched['order_id']}")
    expect(refused).to_have_text(f"{despatched['reference']}: Not cancelled: already despatched")
    assert codes_shown(page) == []
    assert out_of_reach(page) == []
    request = seller.request("GET", f"/orders/{picked['order_id']}").json()["cancellation"]["request"]
    assert (request["status"], request["reason_code"]) == ("REQUESTED", "FRAUD_SUSPECTED")

    # Closed, the list shows the new statuses without a reload.
    page.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    for order in pending:
        expect(page.locator(f"#row-{order['order_id']}")).to_contain_text("Cancelled")

    # Again, to follow the link of the refused order.
    page.get_by_label(f"Select order {despatched['reference']}").check()
    page.locator("#cancel-selected").click()
    expect(page.locator("#dialog-intro")).to_have_text("1 order cannot be cancelled (1: already despatched).")
    page.get_by_role("button", name="Try anyway").click()
    page.locator(f"#bulk-result-{despatched['order_id']}").get_by_role("link", name=despatched["reference"]).click()
    expect(page.locator("h1")).to_have_text(f"Order {despatched['reference']}")
    expect(dialog).to_be_hidden()


def test_a_seller_who_does_not_ask_the_warehouse_is_told_which_orders_stayed(visit, seller, warehouse):  # noqa: F811
    pending = seller.create_order()
    packed = in_warehouse(seller, warehouse, "PACKED")
    wait_for(
        lambda: {order["order_id"]: order["status"] for order in seller.request("GET", "/orders").json()["orders"]},
        lambda found: found.get(packed["order_id"]) == "PACKED" and len(found) == 2,
        10,
    )
    visit.sign_in(seller.seller_id)
    page = visit.page
    page.get_by_label("Select all on this page").check()
    page.locator("#cancel-selected").click()
    page.get_by_role("button", name="Cancel the orders").click()  # the box left unticked: no request
    expect(page.locator("#dialog-intro")).to_have_text("1 order cancelled, 1 order could not be cancelled.")
    expect(page.locator(f"#bulk-result-{packed['order_id']}")).to_have_text(
        f"{packed['reference']}: Not cancelled: in the warehouse, and no request was made"
    )
    assert seller.request("GET", f"/orders/{packed['order_id']}").json()["cancellation"]["request"] is None
    assert seller.request("GET", f"/orders/{pending['order_id']}").json()["status"] == "CANCELLED"
