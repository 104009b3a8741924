"""The portal's "On backorder" and Split order (docs/api.md §11) in a real headless Chromium, against `make run`'s
stack, at desktop and phone size: the short lines and the expected day, the pop-up saying what ships now and
what waits, both orders linking to each other after the split, and no API code shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.portal_page import accessibility_violations, codes_shown, out_of_reach
from tests.e2e.test_portal import DESKTOP, PHONE, browser, seller, visit, warehouse  # noqa: F401 - fixtures
from tests.support.local_stack import Portal, Warehouse, order_body

LINES = [{"sku": "TSHIRT-RED-M", "quantity": 2}, {"sku": "MUG-WHITE", "quantity": 1}]


def on_backorder(portal: Portal, system: Warehouse) -> dict:
    answer = portal.request("POST", "/orders", {**order_body(), "items": LINES})
    assert answer.status_code == 201, answer.text
    order = answer.json()
    marked = system.post(
        f"/warehouse/orders/{order['order_id']}/status",
        {
            "status": "ON_BACKORDER",
            "backordered_items": [{"line": 2, "sku": "MUG-WHITE", "quantity": 1}],
            "expected_at": "2027-01-15",
        },
    )
    assert marked.status_code == 200, marked.text
    return marked.json()


@pytest.mark.parametrize("visit", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_the_seller_sees_the_backorder_and_splits_off_what_is_in_stock(visit, seller, warehouse):  # noqa: F811
    order = on_backorder(seller, warehouse)
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page

    # The page says it is on backorder, which line is short and when stock is due, in words
    expect(page.locator(".badge")).to_have_text("On backorder (waiting for stock)")
    expect(page.locator("#backorder")).to_contain_text("1 × MUG-WHITE")
    expect(page.locator("#expected")).to_have_text("Stock is expected on 15 January 2027.")
    assert "The warehouse put the order on backorder" in page.inner_text("#history")
    assert page.get_attribute("#split-order", "aria-disabled") == "false"
    assert out_of_reach(page) == []
    found = {"order page (on backorder)": accessibility_violations(page)}

    # The pop-up says what ships now and what waits
    page.get_by_role("button", name="Split order").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    text = dialog.inner_text()
    sent_now, waits = text.split("Sent now", 1)[1].split("Waits for stock", 1)
    assert "2 × TSHIRT-RED-M" in sent_now and "MUG-WHITE" not in sent_now
    assert "1 × MUG-WHITE" in waits and "TSHIRT" not in waits
    assert f"{order['reference']}-2" in text
    assert out_of_reach(page) == []
    found["split pop-up"] = accessibility_violations(page)
    assert {screen: violations for screen, violations in found.items() if violations} == {}
    page.get_by_role("button", name="Split the order").click()

    # After it: the order holds only what waits, the button is greyed out with the reason, and it links to the new one
    expect(page.locator("#done")).to_contain_text("The order has been split")
    expect(page.locator("#items")).to_have_text("1 × MUG-WHITE")
    assert page.get_attribute("#split-order", "aria-disabled") == "true"
    expect(page.locator("#split-reason")).to_have_text(
        "Every item of this order is waiting for stock: there is nothing to send yet"
    )
    assert "split off what was in stock into a new order" in page.inner_text("#history")
    assert codes_shown(page) == []
    assert out_of_reach(page) == []

    # The new order is pending with the T-shirts, and links back to the original
    page.locator("#split-links a.split-into").click()
    expect(page.locator("h1")).to_have_text(f"Order {order['reference']}-2")
    expect(page.locator("#items")).to_have_text("2 × TSHIRT-RED-M")
    expect(page.locator(".badge")).to_have_text("Pending (not yet sent to the warehouse)")
    assert page.locator("#split-order").count() == 0  # a pending order offers no split
    assert "split this order off another" in page.inner_text("#history")
    page.locator("#split-from").click()
    expect(page.locator("h1")).to_have_text(f"Order {order['reference']}")
    assert codes_shown(page) == []
    assert out_of_reach(page) == []

    # And the feed tells both changes in words
    expect(page.locator("#notification-list")).to_contain_text(f"{order['reference']} is on backorder", timeout=20_000)
    expect(page.locator("#notification-list")).to_contain_text(f"You split what was in stock off {order['reference']}")
