"""The portal's tracking (docs/api.md §12) in a real browser: the Courier Status column, the View tracking page
(the timeline, the carrier's link, each status's meaning from the API), the edit form's catalogue; on a phone too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_portal import DESKTOP, PHONE, browser, in_warehouse, seller, visit, warehouse  # noqa: F401

pytestmark = pytest.mark.usefixtures("browser")


def at(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(hours=3) + timedelta(minutes=minutes)).isoformat(timespec="seconds")


@pytest.mark.parametrize("visit", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_the_courier_status_column_and_the_tracking_page(visit, seller, warehouse):
    # Given a despatched order the courier reported on, and one not despatched
    waiting = in_warehouse(seller, warehouse)
    order = in_warehouse(seller, warehouse)
    despatch = {"status": "DESPATCHED", "tracking_number": "JD0002 1"}
    assert warehouse.post(f"/warehouse/orders/{order['order_id']}/status", despatch).status_code == 200
    events = [
        {"event_id": "e1", "status": "IN_TRANSIT", "occurred_at": at(10), "location": "Leeds Mail Centre"},
        {"event_id": "e2", "status": "OUT_FOR_DELIVERY", "occurred_at": at(50), "description": "On the van"},
    ]
    answer = warehouse.post(f"/warehouse/orders/{order['order_id']}/tracking-events", {"events": events})
    assert answer.status_code == 200, answer.text
    page = visit.page

    # When the seller opens the orders page
    visit.sign_in(seller.seller_id)

    # Then the Courier Status column says where the parcel is, in the API's words, with View tracking
    row = page.locator(f"#row-{order['order_id']}")
    assert "Out for delivery" in row.locator(".courier-status").inner_text()
    assert page.locator(f"#row-{waiting['order_id']} .courier-status").inner_text() == "—"
    assert page.get_by_role("columnheader", name="Courier status").count() == 1

    # When they follow View tracking
    page.locator(f"#track-{order['order_id']}").click()
    page.wait_for_selector("#timeline")

    # Then the timeline is oldest first, the carrier's link is the catalogue's, and each status is explained
    items = page.locator("#timeline li")
    assert items.count() == 2
    assert items.nth(0).inner_text().startswith("In transit") and "Leeds Mail Centre" in items.nth(0).inner_text()
    assert "On the van" in items.nth(1).inner_text()
    link = page.locator("#carrier-link")
    expected = seller.request("GET", f"/orders/{order['order_id']}").json()["tracking_url"]
    assert (
        link.get_attribute("href")
        == expected
        == "https://www.royalmail.com/track-your-item#/tracking-results/JD0002%201"
    )
    assert "Out for delivery" in page.inner_text("#tracking-status")
    statuses = seller.request("GET", "/courier-statuses").json()["courier_statuses"]
    assert page.locator("#meanings dt").count() == len(statuses) == 9
    delivered = next(status for status in statuses if status["status"] == "DELIVERED")
    assert delivered["meaning"] in page.inner_text("#meanings")
    assert page.title().startswith("Tracking ")


def test_the_edit_form_offers_the_catalogue_from_the_api(visit, seller):
    order = seller.create_order()
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    visit.page.locator("#edit-order").click()
    options = visit.page.locator("#courier-service option")
    codes = [options.nth(n).get_attribute("value") for n in range(options.count())]
    catalogue = [s["code"] for s in seller.request("GET", "/courier-services").json()["courier_services"]]
    assert codes == catalogue
    assert ("GET", "/courier-services") in visit.api_calls
