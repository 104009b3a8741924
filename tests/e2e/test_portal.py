"""The reference portal (docs/api.md §9) in a real headless Chromium, against `make run`'s stack.

Debian's chromium (/usr/bin/chromium; `make test` installs it) driven by Playwright for Python,
which drives it over the DevTools protocol with no driver binary to match, and waits for the page
by itself. Every test also checks that the page logged no console error and asked no host but
the portal's and the API's; a failing test leaves a screenshot of its last screen in
test-output/browser/.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.local_stack import Portal, RunningStack, Warehouse, new_seller, start_stack

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


class Visit:
    """A page of the portal, with what the checks after the test need: console errors and the hosts asked."""

    def __init__(self, page, stack: RunningStack):
        self.page = page
        self.stack = stack
        self.errors: list[str] = []
        self.hosts: set[str] = set()
        # Chromium logs each 4xx answer as "Failed to load resource"; a test that provokes one names its status.
        self.expected_statuses: set[int] = set()
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self.hosts.add(urllib.parse.urlsplit(request.url).netloc))
        page.set_default_timeout(15_000)

    def sign_in(self, seller_id: str) -> None:
        self.page.goto(self.stack.portal_url)
        if seller_id in ("S-1", "S-2"):
            self.page.get_by_role("button", name=f"Sign in as {seller_id}").click()
        else:
            # A seller of this test alone: the token route, as the demo sellers' buttons call it.
            self.page.evaluate(
                """async ([api, seller]) => {
                    const answer = await fetch(api + "/_local/tokens", {method: "POST",
                        headers: {"Content-Type": "application/json"}, body: JSON.stringify({seller_id: seller})});
                    sessionStorage.setItem("id_token", (await answer.json()).id_token);
                    sessionStorage.setItem("seller_id", seller);
                }""",
                [self.stack.api_url, seller_id],
            )
            self.page.goto(f"{self.stack.portal_url}/#/orders")
        self.page.wait_for_selector("#status-filter")

    def open_order(self, order_id: str) -> None:
        self.page.goto(f"{self.stack.portal_url}/#/orders/{order_id}")
        self.page.wait_for_selector("#cancel-order")


@pytest.fixture
def visit(browser, stack: RunningStack, request) -> Iterator[Visit]:
    context = browser.new_context()
    page = context.new_page()
    seen = Visit(page, stack)
    yield seen
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)}.png"), full_page=True
        )
    context.close()
    if not failed:
        allowed = {urllib.parse.urlsplit(url).netloc for url in (stack.portal_url, stack.api_url)}
        assert seen.hosts <= allowed, f"asked another host: {seen.hosts - allowed}"
        unexpected = [
            error
            for error in seen.errors
            if not any(f"status of {status} " in error for status in seen.expected_statuses)
        ]
        assert unexpected == [], unexpected


@pytest.fixture
def seller(stack: RunningStack) -> Portal:
    return Portal(stack.api_url, new_seller())


@pytest.fixture
def warehouse(stack: RunningStack) -> Warehouse:
    return Warehouse(stack.api_url)


def in_warehouse(seller: Portal, warehouse: Warehouse, *moves: str) -> dict:
    order = seller.create_order()
    for status in ("SENT_TO_WAREHOUSE", *moves):
        assert warehouse.move(order["order_id"], status).status_code == 200
    return order


# -- the article's three stories ----------------------------------------------------------------


def test_a_pending_order_is_cancelled_at_once_from_its_page(visit, seller):
    order = seller.create_order()
    visit.sign_in(seller.seller_id)
    visit.page.get_by_role("link", name=order["reference"]).click()
    page = visit.page
    page.wait_for_selector("#cancel-order")
    assert page.get_attribute("#cancel-order", "aria-disabled") == "false"

    page.get_by_role("button", name="Cancel Order").click()
    dialog = page.get_by_role("dialog")
    assert dialog.is_visible() and "cancelled at once" in dialog.inner_text()
    assert page.evaluate("document.activeElement.closest('dialog') !== null")  # focus moved into the pop-up
    page.get_by_role("button", name="Cancel the order").click()

    assert page.inner_text(".message.ok") == "Your order has been successfully cancelled."
    assert "Cancelled" in page.inner_text(".badge")  # the answer's status, at once
    assert page.get_attribute("#cancel-order", "aria-disabled") == "true"
    assert page.inner_text("#cancel-reason") == "This order has been cancelled"
    assert "Order cancelled by you" in page.inner_text("#history")


def test_an_order_in_the_warehouse_gets_a_request_with_a_reason_and_a_note(visit, seller, warehouse):
    order = in_warehouse(seller, warehouse, "PICKED")
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page

    page.get_by_role("button", name="Cancel Order").click()
    dialog = page.get_by_role("dialog")
    assert "already in the warehouse" in dialog.inner_text()
    page.get_by_label("Reason").select_option(label="The address is wrong")
    page.get_by_label("Note for the warehouse (optional)").fill("Flat number missing")
    page.get_by_role("button", name="Send the request").click()

    assert page.inner_text(".message.ok") == (
        "A request has been raised with the warehouse team; you will be notified of the outcome."
    )
    assert page.inner_text("#cancel-reason") == "A cancellation request is waiting for the warehouse"
    stored = seller.request("GET", f"/orders/{order['order_id']}").json()["cancellation"]["request"]
    assert (stored["reason_code"], stored["note"]) == ("ADDRESS_ERROR", "Flat number missing")


def test_a_despatched_order_has_the_button_greyed_out_and_not_clickable(visit, seller, warehouse):
    order = in_warehouse(seller, warehouse, "PACKED", "DESPATCHED")
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page

    button = page.locator("#cancel-order")
    assert button.get_attribute("aria-disabled") == "true"
    assert page.inner_text("#cancel-reason") == "This order has been despatched and can no longer be cancelled"
    assert button.get_attribute("aria-describedby") == "cancel-reason"
    assert not button.is_enabled()  # as assistive technology and Playwright read aria-disabled
    button.click(force=True)  # clicked all the same
    assert not page.get_by_role("dialog").is_visible()  # nothing opens
    assert seller.request("GET", f"/orders/{order['order_id']}").json()["status"] == "DESPATCHED"


@pytest.mark.parametrize(
    "reason, words",
    [
        ("CANCELLATION_PENDING", "A cancellation request is waiting for the warehouse"),
        ("CANCELLATION_REJECTED", "The warehouse rejected the cancellation request; it can no longer be cancelled"),
        ("ORDER_DESPATCHED", "This order has been despatched and can no longer be cancelled"),
        ("ORDER_CANCELLED", "This order has been cancelled"),
    ],
)
def test_each_unavailable_reason_is_said_in_words(visit, seller, warehouse, reason, words):
    order = seller.create_order()
    order_id = order["order_id"]
    if reason == "ORDER_CANCELLED":
        seller.request("POST", f"/orders/{order_id}/cancel")
    elif reason == "ORDER_DESPATCHED":
        for status in ("SENT_TO_WAREHOUSE", "DESPATCHED"):
            warehouse.move(order_id, status)
    else:
        warehouse.move(order_id, "SENT_TO_WAREHOUSE")
        seller.request("POST", f"/orders/{order_id}/cancellation-request")
        if reason == "CANCELLATION_REJECTED":
            warehouse.decide(order_id, "REJECTED", "ALREADY_PACKED")
    assert seller.request("GET", f"/orders/{order_id}").json()["cancellation"]["unavailable_reason"] == reason
    visit.sign_in(seller.seller_id)
    visit.open_order(order_id)
    assert visit.page.get_attribute("#cancel-order", "aria-disabled") == "true"
    assert visit.page.inner_text("#cancel-reason") == words


# -- races and refusals ---------------------------------------------------------------------------


def test_the_warehouse_moving_the_order_while_the_page_is_open_is_explained_and_the_button_redraws(
    visit, seller, warehouse
):
    order = seller.create_order()
    visit.expected_statuses = {409}
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page
    assert page.get_attribute("#cancel-order", "aria-disabled") == "false"  # CANCEL, as the page was read

    assert warehouse.move(order["order_id"], "SENT_TO_WAREHOUSE").status_code == 200  # meanwhile
    page.get_by_role("button", name="Cancel Order").click()
    page.get_by_role("button", name="Cancel the order").click()

    alert = page.get_by_role("alert")
    assert "Order in warehouse" in alert.inner_text() and "can only be cancelled by request" in alert.inner_text()
    assert "Sent to the warehouse" in page.inner_text(".badge")
    page.get_by_role("button", name="Cancel Order").click()  # now it offers the request
    assert "Request a cancellation" in page.get_by_role("dialog").inner_text()
    page.keyboard.press("Escape")
    assert not page.get_by_role("dialog").is_visible()
    assert page.evaluate("document.activeElement.id") == "cancel-order"  # focus back on the button


def test_an_edit_from_a_stale_page_is_refused_and_the_order_reloaded(visit, seller):
    order = seller.create_order()
    visit.expected_statuses = {412}
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page
    elsewhere = seller.request("PATCH", f"/orders/{order['order_id']}", {"courier_service": "DPD_NEXT_DAY"})
    assert elsewhere.status_code == 200  # another tab saved first

    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Courier service").fill("EVRI_48")
    page.get_by_role("button", name="Save").click()

    alert = page.get_by_role("alert")
    assert "The order changed meanwhile" in alert.inner_text()
    assert page.inner_text("#courier") == "DPD_NEXT_DAY"  # reloaded: the other tab's change, not ours
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Courier service").fill("EVRI_48")
    page.get_by_role("button", name="Save").click()
    assert page.inner_text(".message.ok") == "Your changes have been saved."
    assert page.inner_text("#courier") == "EVRI_48"


def test_the_feed_shows_each_outcome_while_the_page_is_open(visit, seller, warehouse):
    order = in_warehouse(seller, warehouse)
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page
    page.get_by_role("button", name="Cancel Order").click()
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_selector(".message.ok")
    assert warehouse.decide(order["order_id"], "REJECTED", "ALREADY_PACKED").status_code == 200

    feed = page.locator("#notification-list")
    expect(feed).to_contain_text("Cancellation rejected by the warehouse", timeout=15_000)
    text = feed.inner_text()
    assert text.index("Cancellation rejected") < text.index("Cancellation requested")  # newest first
    assert order["reference"] in text


def test_the_list_filters_by_status_and_pages(visit, seller, warehouse):
    for _ in range(11):
        seller.create_order()
    despatched = in_warehouse(seller, warehouse, "DESPATCHED")
    visit.sign_in(seller.seller_id)
    page = visit.page
    assert page.locator("tbody tr").count() == 10
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_label("Status").select_option("DESPATCHED")
    expect(page.locator("tbody tr")).to_have_count(1)
    assert page.locator("tbody tr").inner_text().startswith(despatched["reference"])


# -- CORS ------------------------------------------------------------------------------------------


def test_a_portal_served_from_an_origin_the_api_does_not_allow_cannot_call_it(browser, tmp_path):
    # The same portal on 127.0.0.2: an origin the local API does not allow (it allows localhost and 127.0.0.1).
    from infra.local.portal_server import PortalServer

    running = start_stack(tmp_path / "orders-local.log")
    other = PortalServer(running.api_url, host="127.0.0.2", port=0).start()
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        page.goto(other.url)
        page.get_by_role("button", name="Sign in as S-1").click()
        alert = page.get_by_role("alert")
        assert "The API cannot be reached" in alert.inner_text()
        assert any("CORS" in error or "Access-Control-Allow-Origin" in error for error in errors), errors
    finally:
        context.close()
        other.stop()
        assert running.stop() == 0
