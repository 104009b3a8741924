"""The reference portal (docs/api.md §9) in a real headless Chromium, against `make run`'s stack.

Debian's chromium-headless-shell (/usr/bin/chromium-headless-shell, Chromium's headless build, the
one Playwright itself runs headless tests in; `make test` installs it) driven by Playwright for
Python, which drives it over the DevTools protocol with no driver binary to match, and waits for the
page by itself. Every test also checks that the page logged no console error and asked no host but
the portal's and the API's; a failing test leaves a screenshot of its last screen in
test-output/browser/. Tests run at desktop size (1280×720) unless parametrized with PHONE (390×844).

Most tests share the session's stack; the escalation and CORS tests share a second one whose
cancellation requests fall due after SLA_SECONDS.
"""

from __future__ import annotations

import datetime
import re
import time
import urllib.parse
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.portal_page import (
    CODE,
    Visit,
    accessibility_violations,
    codes_shown,
    out_of_reach,
    readable_text,
)
from tests.support.local_stack import (
    FAST_SLA_SECONDS,
    Portal,
    RunningStack,
    Warehouse,
    new_seller,
    order_body,
    session,
    wait_for,
)

# A machine with only Debian's full chromium, and no root to install the headless shell (the Makefile), runs
# the same tests in it, at about 2.7 times the browser's CPU.
CHROMIUM = next(
    (path for path in (Path("/usr/bin/chromium-headless-shell"), Path("/usr/bin/chromium")) if path.exists()),
    Path("/usr/bin/chromium-headless-shell"),
)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"
DESKTOP = {"viewport": {"width": 1280, "height": 720}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# Long enough for the page to show a request still waiting before it falls due (only a due request can
# be escalated, by the test's own sweep or the stack's scheduled one); short enough to wait for.
SLA_SECONDS = FAST_SLA_SECONDS
FEED_SECONDS = 3  # the portal reads the feed every 3 s


# Per module: Playwright's synchronous API runs an event loop in this thread while it is open, which
# would refuse asyncio.run() to every later test of the worker (the delivery function's batch processor).
@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium-headless-shell is not installed: `make test` installs it "
            "(apt-get install chromium-headless-shell)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def _visit(browser, stack: RunningStack, request, options: dict) -> Iterator[Visit]:
    context = browser.new_context(**options)
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
def visit(browser, stack: RunningStack, request) -> Iterator[Visit]:
    """A browser tab at desktop size; `@pytest.mark.parametrize("visit", [PHONE], indirect=True)` for others."""
    yield from _visit(browser, stack, request, getattr(request, "param", DESKTOP))


@pytest.fixture
def seller(stack: RunningStack) -> Portal:
    return Portal(stack.api_url, new_seller())


@pytest.fixture
def warehouse(stack: RunningStack) -> Warehouse:
    return Warehouse(stack.api_url)


def in_warehouse(seller: Portal, warehouse: Warehouse, *moves: str, **fields: Any) -> dict:
    order = create(seller, **fields)
    for status in ("SENT_TO_WAREHOUSE", *moves):
        assert warehouse.move(order["order_id"], status).status_code == 200
    return order


def stored_before_the_catalogue(stack: RunningStack, order: dict, courier_service: str) -> None:
    """Give `order` a courier service the API no longer takes (docs/api.md §12), as an order stored before the
    catalogue holds: written to the table directly."""
    stack.aws("dynamodb").update_item(
        TableName=stack.table(),
        Key={"order_id": {"S": order["order_id"]}},
        UpdateExpression="SET courier_service = :code",
        ExpressionAttributeValues={":code": {"S": courier_service}},
    )


def create(seller: Portal, reference: str | None = None, **fields: Any) -> dict:
    """An order of `seller`, with `fields` replacing the standard ones (recipient fields by name)."""
    body = order_body(reference)
    recipient = {
        name: fields.pop(name) for name in list(fields) if name in body["recipient"] or name == "address_line2"
    }
    body = {**body, **fields, "recipient": {**body["recipient"], **recipient}}
    answer = seller.request("POST", "/orders", body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def request_cancellation(seller: Portal, order: dict, reason: str = "CUSTOMER_REQUEST", note: str | None = None):
    body = {"reason_code": reason, **({"note": note} if note is not None else {})}
    answer = seller.request("POST", f"/orders/{order['order_id']}/cancellation-request", body)
    assert answer.status_code == 202, answer.text
    return answer.json()


def decide(warehouse: Warehouse, order: dict, decision: str, reason: str | None = None, note: str | None = None):
    body = {"decision": decision, **({"reason_code": reason} if reason else {}), **({"note": note} if note else {})}
    answer = warehouse.post(f"/warehouse/orders/{order['order_id']}/cancellation-decision", body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def seller_time(iso: str, zone: str) -> str:
    """An API time as the portal shows it in `zone`: "7 Dec 2026, 03:38 GMT+9" (en-GB, the zone named)."""
    moment = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zoneinfo.ZoneInfo(zone))
    offset = int(moment.utcoffset().total_seconds() // 3600)
    month = "Sept" if moment.month == 9 else f"{moment:%b}"  # ICU's en-GB abbreviation
    return f"{moment.day} {month} {moment:%Y, %H:%M} GMT{f'{offset:+d}' if offset else ''}"


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

    expect(page.locator("#done")).to_have_text("Your order has been successfully cancelled.")
    assert "Cancelled" in page.inner_text(".badge")  # the answer's status, at once
    assert page.get_attribute("#cancel-order", "aria-disabled") == "true"
    assert page.inner_text("#cancel-reason") == "This order has been cancelled"
    assert page.inner_text("#edit-reason") == "This order has been cancelled and can no longer be edited"
    assert "You cancelled the order." in page.inner_text("#history")


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

    expect(page.locator("#done")).to_have_text(
        "A request has been raised with the warehouse team; you will be notified of the outcome."
    )
    assert page.inner_text("#cancel-reason") == "A cancellation request is waiting for the warehouse"
    request = page.inner_text("#request")
    assert "the address is wrong" in request and "Flat number missing" in request
    assert "You asked the warehouse to cancel the order (the address is wrong)." in page.inner_text("#history")
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
    # The greyed-out Edit button says why too, and a click does nothing either.
    edit = page.locator("#edit-order")
    assert edit.get_attribute("aria-describedby") == "edit-reason"
    assert page.inner_text("#edit-reason") == "This order has been despatched and can no longer be edited"
    edit.click(force=True)
    assert not page.get_by_role("dialog").is_visible()


@pytest.mark.parametrize(
    "reason, words, edit_words",
    [
        (
            "CANCELLATION_PENDING",
            "A cancellation request is waiting for the warehouse",
            "This order is in the warehouse and can no longer be edited",
        ),
        (
            "CANCELLATION_REJECTED",
            "The warehouse rejected the cancellation request; it can no longer be cancelled",
            "This order is in the warehouse and can no longer be edited",
        ),
        (
            "ORDER_DESPATCHED",
            "This order has been despatched and can no longer be cancelled",
            "This order has been despatched and can no longer be edited",
        ),
        (
            "ORDER_CANCELLED",
            "This order has been cancelled",
            "This order has been cancelled and can no longer be edited",
        ),
    ],
)
def test_each_unavailable_reason_is_said_in_words(visit, seller, warehouse, reason, words, edit_words):
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
    assert visit.page.get_attribute("#edit-order", "aria-disabled") == "true"
    assert visit.page.inner_text("#edit-reason") == edit_words


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
    expect(alert).to_contain_text("The order is already in the warehouse")
    assert "can only be cancelled by request" in alert.inner_text()
    assert codes_shown(page) == []  # the problem's detail names SENT_TO_WAREHOUSE; the page does not
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
    page.get_by_label("Courier service").select_option(label="Evri 48")
    page.get_by_role("button", name="Save").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The order changed meanwhile")
    assert page.inner_text("#courier") == "DPD Next Day"  # reloaded: the other tab's change, not ours
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Courier service").select_option(label="Evri 48")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#done")).to_have_text("Your changes have been saved.")
    assert page.inner_text("#courier") == "Evri 48"
    assert page.inner_text("#problem") == ""  # the refusal is no longer the news


# -- the edit sends what the seller changed (issue 22) ---------------------------------------------


def test_the_edit_sends_only_what_the_seller_changed_and_nothing_when_nothing_changed(visit, seller):
    order = create(seller, address_line2="Flat 1")
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page
    sent: list[dict] = []
    page.on("request", lambda request: sent.append(request.post_data_json) if request.method == "PATCH" else None)

    page.get_by_role("button", name="Edit").click()
    assert page.get_by_label("Courier service").evaluate("select => select.options[select.selectedIndex].text") == (
        "Royal Mail 48"
    )
    page.get_by_label("Courier service").select_option(label="Evri 48")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#done")).to_have_text("Your changes have been saved.")
    assert sent == [{"courier_service": "EVRI_48"}]
    assert "You changed the courier service." in page.inner_text("#history")

    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Town or city").fill("Bath")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#history li")).to_have_count(3)
    assert page.locator("#history li .sentence").last.inner_text() == "You changed the recipient."
    assert sent[1] == {"recipient": {**order["recipient"], "city": "Bath"}}  # the recipient whole, as the API takes it

    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Recipient's name").fill(order["recipient"]["name"] + "  ")  # the same, spaces aside
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_contain_text("You have not changed anything, so there is nothing to save.")
    assert len(sent) == 2  # nothing sent
    page.get_by_label("Address line 2 (optional)").fill("")
    page.get_by_label("Courier service").select_option(label="DHL Express")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#history li")).to_have_count(4)
    assert (
        page.locator("#history li .sentence").last.inner_text() == "You changed the recipient and the courier service."
    )
    assert "address_line2" not in sent[2]["recipient"] and sent[2]["courier_service"] == "DHL_EXPRESS"
    stored = seller.request("GET", f"/orders/{order['order_id']}").json()
    assert [sorted(entry["changed"]) for entry in stored["history"] if entry["event"] == "ORDER_EDITED"] == [
        ["courier_service"],
        ["recipient"],
        ["courier_service", "recipient"],
    ]


def test_the_edit_says_what_to_fix_before_sending(visit, seller):
    order = seller.create_order()
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "PATCH" else None)
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Recipient's name").fill("   ")
    page.keyboard.press("Enter")  # Enter in a field submits the pop-up's form
    expect(page.get_by_role("dialog")).to_contain_text("Recipient's name: enter it, it cannot be left empty.")
    assert page.get_by_label("Recipient's name").get_attribute("aria-invalid") == "true"
    assert visit.focused().startswith("input#recipient-name")
    page.get_by_label("Recipient's name").fill("Grace Hopper")
    page.get_by_label("Postcode").fill("SW1Y 4JH!")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_contain_text("Postcode: use letters, digits, spaces and hyphens only.")
    assert sent == []


# -- the seller's words --------------------------------------------------------------------------


def test_the_code_pattern_tells_the_apis_codes_from_the_sellers_data():
    codes = "SENT_TO_WAREHOUSE ROYAL_MAIL_48 IN_COURIER_COLLECTION (REQUESTED) REJECTED — OTHER, PICKED."
    assert [match.group() for match in CODE.finditer(codes)] == [
        "SENT_TO_WAREHOUSE",
        "ROYAL_MAIL_48",
        "IN_COURIER_COLLECTION",
        "REQUESTED",
        "REJECTED",
        "OTHER",
        "PICKED",
    ]
    data = (
        "Order SHOP-1001 ord_vaaqcmrvay23t3eaw4cxowtvbr 2 × TSHIRT-RED-M Signed in as S-1 LS1 1AA GB TRK-1005 E2E-1a2b"
    )
    assert CODE.findall(data) == []
    assert CODE.findall("Picked, Cancelled, Royal Mail 48, the order was already packed") == []


def test_the_words_module_puts_codes_it_does_not_know_into_words(visit, seller):
    # What no order of today's API reaches: a code the portal has no words for yet (a new status, event,
    # courier or refusal) still reads as words, never as the code. The couriers' names are the API's
    # catalogue (GET /courier-services, which portal/couriers.js hands to words.js once signed in).
    catalogue = seller.request("GET", "/courier-services").json()["courier_services"]
    visit.page.goto(visit.stack.portal_url)
    said = visit.page.evaluate(
        """async (catalogue) => {
            const words = await import("./words.js");
            words.setCourierServices(catalogue);
            return {
                couriers: Object.keys(words.COURIER_SERVICES).map(words.courierName),
                unknownCourier: words.courierName("PARCELFORCE_EXPRESS_24"),
                initials: words.courierName("UPS_SAVER"),
                typed: words.courierName("My own van <b>"),
                status: words.statusName("RETURNED_TO_SENDER"),
                history: words.historySentence({event: "ORDER_REROUTED", by: "warehouse"}, null),
                edited: words.historySentence(
                    {event: "ORDER_EDITED", by: "seller:S-1", changed: ["delivery_date"]}, null),
                feed: words.eventSentence({event_type: "ORDER_RETURNED", reference: "SHOP-9"}),
                problem: words.problemWords({status: 409, code: "ORDER_ON_HOLD",
                    detail: "Order ord_x is PICKED and ON_HOLD since SHOP-1."}),
                invalid: words.problemWords({status: 400, code: "VALIDATION_ERROR",
                    errors: [{field: "recipient.name", message: "Too long"}, {field: "gift_wrap", message: "No"}]}),
            };
        }""",
        catalogue,
    )
    assert said["couriers"] == [
        "Royal Mail 24",
        "Royal Mail 48",
        "Royal Mail Tracked 24",
        "Royal Mail Tracked 48",
        "DPD Next Day",
        "Evri 48",
        "DHL Express",
        "UPS Standard",
    ]
    assert said["unknownCourier"] == "Parcelforce Express 24"
    assert said["initials"] == "UPS Saver"
    assert said["typed"] == "My own van <b>"  # the seller's own text, as typed
    assert said["status"] == "Returned To Sender"
    assert said["history"] == "The order changed (order rerouted)."
    assert said["edited"] == "You changed delivery date."
    assert said["feed"] == "SHOP-9 changed (order returned)."
    assert said["problem"] == {
        "title": "Something went wrong",
        "detail": "Order ord_x is picked and on hold since SHOP-1.",
    }
    assert said["invalid"]["detail"] == "Recipient's name: Too long. gift wrap: No"
    assert CODE.findall(repr(said)) == []


def test_no_api_code_is_shown_anywhere_and_every_outcome_is_a_sentence(visit, seller, warehouse, stack):
    # An order in each state the rules know, each reason of both closed lists, couriers known and not.
    pending = create(seller, courier_service="ROYAL_MAIL_TRACKED_24")
    edited = create(seller)
    assert (
        seller.request("PATCH", f"/orders/{edited['order_id']}", {"courier_service": "UPS_STANDARD"}).status_code == 200
    )
    unknown_courier = in_warehouse(seller, warehouse)
    stored_before_the_catalogue(stack, unknown_courier, "PARCELFORCE_EXPRESS_24")
    cancelled = seller.create_order()
    assert seller.request("POST", f"/orders/{cancelled['order_id']}/cancel").status_code == 200
    waiting = in_warehouse(seller, warehouse, "PICKED")
    request_cancellation(seller, waiting, "FRAUD_SUSPECTED", "Card reported stolen")
    rejected = {}
    for reason in ("ALREADY_PACKED", "IN_COURIER_COLLECTION", "ORDER_DESPATCHED", "OTHER"):
        rejected[reason] = in_warehouse(seller, warehouse, "PACKED")
        request_cancellation(seller, rejected[reason], "DUPLICATE_ORDER")
        decide(
            warehouse,
            rejected[reason],
            "REJECTED",
            reason,
            "Already in the courier cage" if reason == "IN_COURIER_COLLECTION" else None,
        )
    approved = in_warehouse(seller, warehouse)
    request_cancellation(seller, approved, "OTHER")
    decide(warehouse, approved, "APPROVED", note="Stopped before picking")
    despatched = in_warehouse(seller, warehouse, "PICKED")
    request_cancellation(seller, despatched, "ADDRESS_ERROR")
    assert warehouse.move(despatched["order_id"], "DESPATCHED").status_code == 200  # rejects the request

    visit.sign_in(seller.seller_id)
    page = visit.page
    expect(page.locator("#notification-list a").first).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(10)
    assert codes_shown(page) == []
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_role("link", name="Previous page")).to_be_visible()
    assert codes_shown(page) == []

    def order_page(order: dict) -> str:
        visit.open_order(order["order_id"])
        expect(page.locator("h1")).to_have_text(f"Order {order['reference']}")
        assert codes_shown(page) == [], order["reference"]
        return page.inner_text("#page")

    assert "Royal Mail Tracked 24" in order_page(pending)
    text = order_page(edited)
    assert "UPS Standard" in text and "You changed the courier service." in text
    assert "Parcelforce Express 24" in order_page(unknown_courier)  # not in the catalogue: its code in words
    assert "You cancelled the order." in order_page(cancelled)

    text = order_page(waiting)
    assert "You asked the warehouse to cancel the order (fraud is suspected)." in text
    assert "Your note: “Card reported stolen”" in text
    assert "Waiting for the warehouse, which will answer by" in text

    text = order_page(rejected["IN_COURIER_COLLECTION"])
    assert "The warehouse rejected your request: the order was already in the courier collection area." in text
    assert "The warehouse's note: “Already in the courier cage”" in text
    assert "The warehouse rejected your request: the order was already packed." in order_page(
        rejected["ALREADY_PACKED"]
    )
    assert "The warehouse rejected your request: the order had already been despatched." in order_page(
        rejected["ORDER_DESPATCHED"]
    )
    assert "The warehouse rejected your request." in order_page(rejected["OTHER"])

    text = order_page(approved)
    assert "The warehouse approved your request and cancelled the order." in text
    assert "The warehouse's note: “Stopped before picking”" in text
    assert "by the warehouse by the warehouse" not in text and "(Cancelled)" not in text

    text = order_page(despatched)
    assert "The warehouse despatched the order, which turned down your cancellation request." in text

    # Each pop-up, in words too.
    visit.open_order(pending["order_id"])
    page.get_by_role("button", name="Cancel Order").click()
    assert codes_shown(page) == []
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Edit").click()
    assert codes_shown(page) == []  # the courier services by name
    page.keyboard.press("Escape")
    visit.open_order(unknown_courier["order_id"])
    page.get_by_role("button", name="Cancel Order").click()
    assert "(sent to the warehouse)" in page.get_by_role("dialog").inner_text()
    assert codes_shown(page) == []  # the reasons by name
    page.keyboard.press("Escape")

    # The feed says it as soon as the event has come through the stream, the topic and the delivery.
    feed = page.locator("#notification-list")
    expect(feed).to_contain_text(
        f"The warehouse rejected your request to cancel {rejected['OTHER']['reference']}.", timeout=20_000
    )
    assert codes_shown(page) == []


@pytest.mark.parametrize("visit", [{**DESKTOP, "timezone_id": "Asia/Tokyo"}], indirect=True, ids=["tokyo"])
def test_a_pending_request_says_by_when_the_warehouse_answers_in_the_sellers_time(visit, seller, warehouse):
    order = in_warehouse(seller, warehouse)
    pending = request_cancellation(seller, order)["cancellation"]["request"]
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    due = seller_time(pending["due_at"], "Asia/Tokyo")
    assert due.endswith("GMT+9")
    request = visit.page.inner_text("#request")
    assert f"Waiting for the warehouse, which will answer by {due}." in request
    assert f"You asked on {seller_time(pending['requested_at'], 'Asia/Tokyo')}" in request
    assert seller_time(order["created_at"], "Asia/Tokyo") in visit.page.inner_text("#history")  # every time is local


# -- live: the feed brings the page up to date -----------------------------------------------------


def test_an_open_order_page_follows_the_warehouses_decision_without_a_reload(visit, seller, warehouse):
    order = in_warehouse(seller, warehouse, "PICKED")
    request_cancellation(seller, order, "CUSTOMER_REQUEST", "Ordered twice")
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page
    assert page.inner_text("#cancel-reason") == "A cancellation request is waiting for the warehouse"
    page.evaluate("window.stillTheSamePage = true")
    page.locator("#edit-order").focus()
    time.sleep(FEED_SECONDS + 0.5)  # the feed was read at least once since: nothing new, nothing read again
    calls_before, since = len(visit.api_calls), time.monotonic()

    decide(warehouse, order, "REJECTED", "IN_COURIER_COLLECTION", "Already in the courier cage")
    expect(page.locator("#cancel-reason")).to_have_text(
        "The warehouse rejected the cancellation request; it can no longer be cancelled", timeout=15_000
    )
    request = page.inner_text("#request")
    assert "The warehouse rejected your request: the order was already in the courier collection area" in request
    assert "The warehouse's note: “Already in the courier cage”" in request
    assert (
        "The warehouse rejected your request: the order was already in the courier collection area."
        in page.inner_text("#history")
    )
    assert page.evaluate("window.stillTheSamePage === true")  # not reloaded
    assert visit.focused().startswith("button#edit-order")  # the redraw kept the keyboard where it was
    expect(page.locator("#news")).to_contain_text(f"The warehouse rejected your request to cancel {order['reference']}")

    # The only polling is the feed's; the order was read once more, because the feed named a newer version.
    time.sleep(FEED_SECONDS)
    calls = visit.api_calls[calls_before:]
    assert {call for call in calls if not call[1].startswith("/notifications")} == {
        ("GET", f"/orders/{order['order_id']}")
    }, calls
    assert len([call for call in calls if call[1] == f"/orders/{order['order_id']}"]) == 1, calls
    feed_reads = len([call for call in calls if call[1].startswith("/notifications")])
    assert feed_reads <= (time.monotonic() - since) / FEED_SECONDS + 1, (feed_reads, time.monotonic() - since)


def test_the_list_reads_again_the_rows_the_feed_mentions(visit, seller, warehouse):
    first = in_warehouse(seller, warehouse)
    second = in_warehouse(seller, warehouse)
    versions = {order["order_id"]: request_cancellation(seller, order)["version"] for order in (first, second)}
    # The list is served by an index that may lag a write a moment (docs/api.md §3): wait until it shows
    # these versions, so that only the warehouse's decision below makes a row older than the feed.
    listed = wait_for(
        lambda: {order["order_id"]: order["version"] for order in seller.request("GET", "/orders").json()["orders"]},
        lambda found: found == versions,
        10,
    )
    assert listed == versions
    visit.sign_in(seller.seller_id)
    page = visit.page
    first_row = page.locator(f"#row-{first['order_id']}")
    second_row = page.locator(f"#row-{second['order_id']}")
    expect(first_row).to_contain_text("Sent to the warehouse")
    page.evaluate("window.stillTheSamePage = true")
    second_row.evaluate("row => row.dataset.untouched = 'yes'")

    decide(warehouse, first, "APPROVED")
    expect(first_row).to_contain_text("Cancelled", timeout=15_000)
    assert page.evaluate("window.stillTheSamePage === true")
    assert second_row.get_attribute("data-untouched") == "yes"  # a row the feed did not mention is left alone
    reads = [call for call in visit.api_calls if call[1].startswith("/orders/")]
    assert reads == [("GET", f"/orders/{first['order_id']}")], reads


def test_the_feed_shows_each_outcome_while_the_page_is_open_and_links_to_its_order(visit, seller, warehouse):
    order = in_warehouse(seller, warehouse)
    other = seller.create_order()
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page
    page.get_by_role("button", name="Cancel Order").click()
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_selector("#done:not(:empty)")
    assert warehouse.decide(order["order_id"], "REJECTED", "ALREADY_PACKED").status_code == 200

    feed = page.locator("#notification-list")
    rejected = f"The warehouse rejected your request to cancel {order['reference']}: the order was already packed."
    expect(feed).to_contain_text(rejected, timeout=15_000)
    text = feed.inner_text()
    assert text.index(rejected) < text.index(f"You asked the warehouse to cancel {order['reference']}.")  # newest first

    visit.open_order(other["order_id"])
    page.get_by_role("link", name=rejected).click()  # each item links to its order
    expect(page.locator("h1")).to_have_text(f"Order {order['reference']}")
    assert urllib.parse.urlsplit(page.url).fragment == f"/orders/{order['order_id']}"
    assert visit.focus_becomes(f'h1 "Order {order["reference"]}"') == f'h1 "Order {order["reference"]}"'


# -- navigation ------------------------------------------------------------------------------------


def test_the_list_filters_on_its_button_and_pages_both_ways(visit, seller, warehouse):
    created = [seller.create_order() for _ in range(11)]
    despatched = in_warehouse(seller, warehouse, "DESPATCHED")
    visit.sign_in(seller.seller_id)
    page = visit.page
    assert page.locator("tbody tr").count() == 10
    assert page.locator("tbody tr").first.inner_text().startswith(despatched["reference"])  # newest first
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    assert page.locator("tbody tr").last.inner_text().startswith(created[0]["reference"])
    assert visit.focus_becomes('h1 "Your orders"') == 'h1 "Your orders"'
    assert not page.get_by_role("link", name="Next page").is_visible()
    page.get_by_role("link", name="Previous page").click()  # back, with the token kept for page 1
    expect(page.locator("tbody tr")).to_have_count(10)
    assert page.locator("tbody tr").first.inner_text().startswith(despatched["reference"])
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.go_back()  # the browser's own back button agrees
    expect(page.locator("tbody tr")).to_have_count(10)

    page.get_by_label("Status").select_option("DESPATCHED")  # choosing does not navigate…
    time.sleep(0.5)
    expect(page.locator("tbody tr")).to_have_count(10)
    page.get_by_role("button", name="Show").click()  # …the button applies it
    expect(page.locator("tbody tr")).to_have_count(1)
    assert page.locator("tbody tr").inner_text().startswith(despatched["reference"])
    # focus stays on the filter
    assert visit.focus_becomes('button#apply-filter "Show"') == 'button#apply-filter "Show"'
    assert page.get_by_label("Status").input_value() == "DESPATCHED"


def test_focus_moves_to_the_new_pages_heading_after_each_navigation(visit, seller):
    order = seller.create_order()
    visit.sign_in(seller.seller_id)
    page = visit.page
    assert visit.focus_becomes('h1 "Your orders"') == 'h1 "Your orders"'
    page.get_by_role("link", name=order["reference"]).click()
    expect(page.locator("h1")).to_have_text(f"Order {order['reference']}")
    assert visit.focus_becomes(f'h1 "Order {order["reference"]}"') == f'h1 "Order {order["reference"]}"'
    assert page.title() == f"Order {order['reference']} · Seller portal"
    page.get_by_role("link", name="Back to your orders").click()
    expect(page.locator("h1")).to_have_text("Your orders")
    assert visit.focus_becomes('h1 "Your orders"') == 'h1 "Your orders"'
    page.go_back()
    expect(page.locator("h1")).to_have_text(f"Order {order['reference']}")
    assert visit.focus_becomes(f'h1 "Order {order["reference"]}"') == f'h1 "Order {order["reference"]}"'
    # From the heading, Tab goes on through the page: the first control is the order's first button.
    page.keyboard.press("Tab")
    assert visit.focus_becomes('button#edit-order "Edit"') == 'button#edit-order "Edit"'


def test_signing_out_and_switching_seller(visit):
    visit.sign_in("S-1")
    page = visit.page
    expect(page.locator("#who")).to_have_text("Signed in as S-1")
    expect(page.locator("#notification-list a").first).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("h1")).to_have_text("Choose a demo seller")
    assert "You are signed out." in page.inner_text("#page")
    assert page.inner_text("#who") == "" and not page.get_by_role("button", name="Sign out").is_visible()
    assert not page.locator("#notifications").is_visible()
    assert page.evaluate("sessionStorage.length") == 0
    page.goto(f"{visit.stack.portal_url}/#/orders")  # signed out, the list is not shown
    expect(page.locator("h1")).to_have_text("Choose a demo seller")

    page.get_by_role("button", name="Sign in as S-2").click()
    expect(page.locator("#who")).to_have_text("Signed in as S-2")
    expect(page.locator("tbody tr").first).to_be_visible()
    s2 = {
        order["order_id"]
        for order in Portal(visit.stack.api_url, "S-2").request("GET", "/orders?limit=100").json()["orders"]
    }
    shown = {row.get_attribute("id").removeprefix("row-") for row in page.locator("tbody tr").all()}
    assert shown <= s2


# -- keyboard and screen reader --------------------------------------------------------------------


def test_a_pop_up_keeps_the_keyboard_inside_and_gives_focus_back(visit, seller):
    order = seller.create_order()
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page

    page.locator("#edit-order").focus()
    page.keyboard.press("Enter")  # the keyboard alone opens it
    expect(page.get_by_role("dialog")).to_be_visible()
    assert page.get_by_role("dialog", name="Edit the order").is_visible()  # named by its heading
    first = visit.focused()
    assert first.startswith("select#courier-service")
    order_of_tabs = [first]
    for _ in range(8):  # courier, five recipient fields, Back, Save: then round again
        page.keyboard.press("Tab")
        order_of_tabs.append(visit.focused())
        assert page.evaluate("document.activeElement.closest('dialog') !== null"), order_of_tabs
    assert order_of_tabs[-2] == 'button#save-edit "Save"' and order_of_tabs[-1] == first, order_of_tabs
    page.keyboard.press("Shift+Tab")
    assert visit.focus_becomes('button#save-edit "Save"') == 'button#save-edit "Save"'
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert visit.focus_becomes('button#edit-order "Edit"') == 'button#edit-order "Edit"'

    page.keyboard.press("Tab")
    assert visit.focus_becomes('button#cancel-order "Cancel Order"') == 'button#cancel-order "Cancel Order"'
    page.keyboard.press("Enter")
    assert visit.focus_becomes('button "Keep the order"') == 'button "Keep the order"'  # the harmless choice first
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "Cancel the order"
    expect(page.locator("#done")).to_have_text("Your order has been successfully cancelled.")
    expect(page.get_by_role("dialog")).to_be_hidden()
    # The page was drawn again; focus is on the button that opened the pop-up, as it is drawn now.
    assert visit.focus_becomes('button#cancel-order "Cancel Order"') == 'button#cancel-order "Cancel Order"'
    assert page.get_attribute("#cancel-order", "aria-disabled") == "true"


def test_each_result_is_announced_once_and_a_failing_feed_is_said_once(visit, seller, warehouse):
    order = seller.create_order()
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page
    live = "[aria-live], [role=status], [role=alert], [role=log]"
    # The pages are not live regions (focus on the h1 says where the seller is): only the messages are.
    assert page.evaluate(f"document.querySelector('#page').closest(`{live}`) === null")
    assert page.locator("#page").locator(live).count() == 0

    page.get_by_role("button", name="Cancel Order").click()
    page.get_by_role("button", name="Cancel the order").click()
    expect(page.locator("#done")).to_have_text("Your order has been successfully cancelled.")
    in_live_regions = page.evaluate(
        f"""() => [...document.querySelectorAll(`{live}`)].filter((region) =>
            region.textContent.includes("successfully cancelled")).length"""
    )
    assert in_live_regions == 1

    # The feed failing: said once in the panel (a polite status), not inserted again at every read.
    page.route("**/notifications?**", lambda route: route.abort())
    status = page.locator("#feed-status")
    expect(status).to_contain_text("The notifications could not be brought up to date", timeout=10_000)
    status.evaluate("element => element.firstChild.sayings = 1")
    for _ in range(2):
        with page.expect_request("**/notifications?**", timeout=10_000):
            pass
    assert status.evaluate("element => element.firstChild.sayings") == 1  # the same text node: not said again
    assert page.locator("#notifications [role=alert]").count() == 0
    page.unroute("**/notifications?**")
    expect(status).to_have_text("", timeout=10_000)  # and it recovers by itself
    visit.errors[:] = [error for error in visit.errors if "net::ERR_FAILED" not in error]  # the aborted reads


@pytest.mark.parametrize("visit", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_no_serious_or_critical_accessibility_violation_on_any_screen(visit, seller, warehouse):
    pending = seller.create_order()
    waiting = in_warehouse(seller, warehouse, "PACKED")
    rejected = in_warehouse(seller, warehouse, "PICKED")
    request_cancellation(seller, rejected, "OTHER", "Customer changed their mind")
    decide(warehouse, rejected, "REJECTED", "IN_COURIER_COLLECTION", "Already in the courier cage")
    visit.sign_in(seller.seller_id)
    page = visit.page
    expect(page.locator("#notification-list a").first).to_be_visible()
    found: dict[str, dict] = {"list": accessibility_violations(page)}

    visit.open_order(rejected["order_id"])
    found["order page (rejected request)"] = accessibility_violations(page)
    visit.open_order(pending["order_id"])
    found["order page (pending)"] = accessibility_violations(page)
    for button, screen in (("Cancel Order", "confirm pop-up"), ("Edit", "edit pop-up")):
        page.get_by_role("button", name=button).click()
        expect(page.get_by_role("dialog")).to_be_visible()
        found[screen] = accessibility_violations(page)
        page.keyboard.press("Escape")
    visit.open_order(waiting["order_id"])
    page.get_by_role("button", name="Cancel Order").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    found["request pop-up"] = accessibility_violations(page)

    serious = {
        screen: {impact: found[screen][impact] for impact in ("serious", "critical") if impact in found[screen]}
        for screen in found
    }
    assert all(not impacts for impacts in serious.values()), serious


# -- a phone is a first-class screen ---------------------------------------------------------------


@pytest.mark.parametrize("visit", [PHONE], indirect=True, ids=["phone"])
def test_at_phone_size_nothing_is_cut_off_and_every_button_can_be_pressed(visit, seller, warehouse):
    order = seller.create_order()
    waiting = in_warehouse(seller, warehouse, "PICKED")
    visit.sign_in(seller.seller_id)
    page = visit.page
    assert page.viewport_size == {"width": 390, "height": 844}
    expect(page.locator("#notification-list li").first).to_be_visible()
    assert out_of_reach(page) == []
    page.get_by_role("link", name=order["reference"]).click()
    expect(page.locator("h1")).to_have_text(f"Order {order['reference']}")
    assert out_of_reach(page) == []

    # One column: the order first, the notifications after it, both the full width.
    main, aside = page.locator("main").bounding_box(), page.locator("#notifications").bounding_box()
    assert aside["y"] >= main["y"] + main["height"], (main, aside)
    assert abs(aside["x"] - main["x"]) < 1 and abs(aside["width"] - main["width"]) < 1
    assert page.locator("#cancel-order").bounding_box()["y"] + 44 <= 844  # on the first screen, no scrolling

    # Every pop-up fits, and its buttons are pressed as a finger would (no force).
    page.get_by_role("button", name="Edit").tap()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    assert out_of_reach(page) == []
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] <= 844, box
    page.get_by_label("Recipient's name").fill("Ada King")
    page.get_by_role("button", name="Save").tap()
    expect(page.locator("#done")).to_have_text("Your changes have been saved.")
    page.get_by_role("button", name="Cancel Order").tap()
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.get_by_role("button", name="Cancel the order").tap()
    expect(page.locator("#done")).to_have_text("Your order has been successfully cancelled.")
    assert out_of_reach(page) == []

    visit.open_order(waiting["order_id"])
    page.get_by_role("button", name="Cancel Order").tap()
    assert out_of_reach(page) == []
    page.get_by_label("Note for the warehouse (optional)").fill("Wrong size " * 45)
    page.get_by_role("button", name="Send the request").tap()
    expect(page.locator("#done")).to_contain_text("A request has been raised")
    assert out_of_reach(page) == []  # the 495-character note wraps

    page.locator("#notifications").scroll_into_view_if_needed()
    expect(page.locator("#notification-list")).to_contain_text(
        f"You asked the warehouse to cancel {waiting['reference']}."
    )
    page.get_by_role("button", name="Sign out").tap()
    expect(page.locator("h1")).to_have_text("Choose a demo seller")
    assert out_of_reach(page) == []


@pytest.mark.parametrize("visit", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_a_200_character_name_wraps_and_keeps_the_buttons_on_screen(visit, seller):
    name = "Wolfeschlegelsteinhausenbergerdorff" * 5 + "x" * 25  # 200 characters, no space to break at
    assert len(name) == 200
    order = create(seller, name=name, address_line1="A" * 200, reference="R" * 64)
    visit.sign_in(seller.seller_id)
    page = visit.page
    width = page.viewport_size["width"]
    assert out_of_reach(page) == []
    visit.open_order(order["order_id"])
    assert out_of_reach(page) == []
    cancel = page.locator("#cancel-order").bounding_box()
    assert cancel["x"] + cancel["width"] <= width, cancel
    assert name in page.inner_text("#recipient").replace("\n", "")  # all of it, wrapped
    page.get_by_role("button", name="Edit").click()
    assert out_of_reach(page) == []


def test_odd_text_in_every_field_shows_as_text(visit, seller, warehouse, stack):
    attacks = {
        "reference": "<script>window.pwned=1</script>",
        "name": '<img src=x onerror="window.pwned=2">\u202eeno\u200f',
        "address_line1": "<b>bold</b> & <i>italic</i> &amp;",
        "city": "\u05d9\u05e8\u05d5\u05e9\u05dc\u05d9\u05dd \u200f<svg onload=window.pwned=3>",
    }
    courier = '"><iframe src=javascript:window.pwned=4>'  # only an order stored before the catalogue has such a code
    note = ("<script>window.pwned=5</script>\nLine two\twith a tab " + "é" * 40 + " ") * 5
    note = note[:500]
    order = in_warehouse(seller, warehouse, "PACKED", **attacks)
    stored_before_the_catalogue(stack, order, courier)
    request_cancellation(seller, order, "OTHER", note)
    decide(warehouse, order, "REJECTED", "OTHER", '<a href="javascript:window.pwned=6">click</a>')
    visit.sign_in(seller.seller_id)
    page = visit.page
    row = page.locator(f"#row-{order['order_id']}")
    expect(row).to_contain_text(attacks["reference"])
    visit.open_order(order["order_id"])
    assert page.locator("h1").text_content() == f"Order {attacks['reference']}"
    recipient = page.locator("#recipient bdi")  # each line isolated: a right-to-left mark cannot spill over the next
    assert recipient.all_text_contents()[:3] == [attacks["name"], attacks["address_line1"], attacks["city"]]
    assert '"><iframe src=javascript:window.pwned=4>' in page.inner_text("#courier")
    shown_note = page.locator("#seller-note bdi").text_content()
    assert shown_note == note  # all 500 characters, line breaks and tabs included
    assert '<a href="javascript:window.pwned=6">click</a>' in page.inner_text("#decision-note")
    expect(page.locator("#notification-list")).to_contain_text(attacks["reference"])
    markup = "#page :is(script, img, svg, iframe, b, i, a[href^=javascript]), #notifications :is(script, svg, iframe)"
    assert page.locator(markup).count() == 0
    assert page.evaluate("window.pwned") is None
    assert out_of_reach(page) == []
    assert page.title() == f"Order {attacks['reference']} · Seller portal"


# -- a stack whose requests fall due in SLA_SECONDS: escalation, and CORS -------------------------


@pytest.fixture
def short_sla_stack(fast_stack: RunningStack) -> RunningStack:
    return fast_stack


@pytest.fixture
def short_sla_visit(browser, short_sla_stack: RunningStack, request) -> Iterator[Visit]:
    yield from _visit(browser, short_sla_stack, request, DESKTOP)


def test_an_escalated_request_says_it_is_overdue_and_being_chased_as_it_happens(short_sla_visit):
    visit = short_sla_visit
    seller = Portal(visit.stack.api_url, new_seller())
    order = in_warehouse(seller, Warehouse(visit.stack.api_url), "PICKED")
    due_at = request_cancellation(seller, order, "ADDRESS_ERROR")["cancellation"]["request"]["due_at"]
    visit.sign_in(seller.seller_id)
    visit.open_order(order["order_id"])
    page = visit.page
    assert "Waiting for the warehouse, which will answer by" in page.inner_text("#request")
    due = datetime.datetime.fromisoformat(due_at.replace("Z", "+00:00"))
    time.sleep(max(0.0, (due - datetime.datetime.now(datetime.UTC)).total_seconds()) + 0.5)
    swept = session().post(f"{visit.stack.api_url}/_local/schedules/EscalationFunction", timeout=30)
    assert swept.status_code == 200, swept.text

    request_text = page.locator("#request")  # the open page follows, as the feed brings the event
    expect(request_text).to_contain_text("Overdue: the warehouse should have answered by", timeout=15_000)
    assert "Your request is being chased." in request_text.inner_text()
    assert "The warehouse had not answered your request in time: it is overdue and being chased." in page.inner_text(
        "#history"
    )
    expect(page.locator("#notification-list")).to_contain_text(
        f"Your request to cancel {order['reference']} is overdue; the warehouse is being chased."
    )
    assert codes_shown(page) == []


def test_a_portal_served_from_an_origin_the_api_does_not_allow_cannot_call_it(browser, short_sla_stack):
    # The same portal on 127.0.0.2: an origin the local API does not allow (it allows localhost and 127.0.0.1).
    from infra.local.portal_server import PortalServer

    other = PortalServer(short_sla_stack.api_url, host="127.0.0.2", port=0).start()
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        page.goto(other.url)
        page.get_by_role("button", name="Sign in as S-1").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("The orders service cannot be reached")
        assert any("CORS" in error or "Access-Control-Allow-Origin" in error for error in errors), errors
        assert readable_text(page).count("The orders service cannot be reached") == 1
    finally:
        context.close()
        other.stop()


# -- tracking a despatched order (docs/api.md §12) ------------------------------------------------------------


def _hours_ago(minutes: int) -> str:
    now = datetime.datetime.now(datetime.UTC)
    return (now - datetime.timedelta(hours=3) + datetime.timedelta(minutes=minutes)).isoformat(timespec="seconds")


@pytest.mark.parametrize("visit", [DESKTOP, PHONE], indirect=True, ids=["desktop", "phone"])
def test_the_courier_status_column_and_the_tracking_page(visit, seller, warehouse):
    # Given a despatched order the courier reported on, and one not despatched
    waiting = in_warehouse(seller, warehouse)
    order = in_warehouse(seller, warehouse)
    despatch = {"status": "DESPATCHED", "tracking_number": "JD0002 1"}
    assert warehouse.post(f"/warehouse/orders/{order['order_id']}/status", despatch).status_code == 200
    events = [
        {"event_id": "e1", "status": "IN_TRANSIT", "occurred_at": _hours_ago(10), "location": "Leeds Mail Centre"},
        {"event_id": "e2", "status": "OUT_FOR_DELIVERY", "occurred_at": _hours_ago(50), "description": "On the van"},
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
