"""What the portal's browser tests read off a page: codes shown as text, accessibility, the layout.

- `codes_shown(page)`: API codes a seller would read on the page (text, pop-ups, options, titles,
  labels and generated labels), by `CODE`.
- `accessibility_violations(page)`: axe-core's violations (run in the page's own Chromium), by impact.
- `out_of_reach(page)`: what a seller cannot see or press without scrolling sideways.
- `Visit`: a page of the portal with what the checks after each test need (console errors, hosts).
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections import defaultdict
from typing import Any

from axe_playwright_python.sync_playwright import Axe

from tests.support.local_stack import RunningStack

# An API code as the portal must never show it: capitals and digits joined by underscores
# (SENT_TO_WAREHOUSE, ROYAL_MAIL_48, IN_COURIER_COLLECTION), or a one-word value of the API's closed
# lists written in capitals (PICKED, REQUESTED, OTHER, NONE). Data is not a code: an order reference
# (SHOP-1001: hyphens), an id (ord_…: lower case), a SKU (TSHIRT-RED-M), a seller (S-1), a country code
# inside a word. A hyphen or letter on either side makes a match part of such data, so it is no match.
ONE_WORD_CODES = (
    "PENDING",
    "PICKED",
    "PACKED",
    "DESPATCHED",
    "CANCELLED",
    "REQUESTED",
    "APPROVED",
    "REJECTED",
    "OTHER",
    "CANCEL",
    "REQUEST",
    "NONE",
    "EDIT",
)
CODE = re.compile(r"(?<![\w-])(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|" + "|".join(ONE_WORD_CODES) + r")(?![\w-])")

# Everything a seller can read or hear on the page: its text (an open pop-up's included), the title,
# each select's options, and the names and hints that are not text (aria-label, title, placeholder,
# alt, and the data-label shown before a cell on a phone).
_READABLE = """() => [
    document.title,
    document.body.innerText,
    ...[...document.querySelectorAll("option")].map((option) => option.text),
    ...[...document.querySelectorAll("[aria-label], [title], [placeholder], [alt], [data-label]")].flatMap(
        (element) => ["aria-label", "title", "placeholder", "alt", "data-label"].map(
            (name) => element.getAttribute(name) || "",
        ),
    ),
].join("\\n")"""


def readable_text(page: Any) -> str:
    return page.evaluate(_READABLE)


def codes_shown(page: Any) -> list[str]:
    """Each line of the page's readable text that shows an API code, with the code."""
    return [
        f"{match.group()!r} in {line.strip()!r}"
        for line in readable_text(page).splitlines()
        for match in CODE.finditer(line)
    ]


# axe-core's WCAG 2.0, 2.1 and 2.2 A and AA rules and its best practices.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
}
_axe = Axe()


def accessibility_violations(page: Any) -> dict[str, list[str]]:
    """axe-core's violations on the page as it is now (an open pop-up included), by impact:
    {"serious": ["color-contrast: 2 elements (#cancel-order, …)"], …}."""
    results = _axe.run(page, options=AXE_OPTIONS)
    found: dict[str, list[str]] = defaultdict(list)
    for violation in results.response["violations"]:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        found[violation["impact"] or "unknown"].append(f"{violation['id']}: {len(violation['nodes'])} ({targets})")
    return dict(found)


_OUT_OF_REACH = """() => {
    const width = document.documentElement.clientWidth;
    const wide = document.documentElement.scrollWidth;
    const found = [];
    if (wide > width) found.push(`the page is ${wide} px wide`);
    for (const control of document.querySelectorAll("button, a[href], select, input, textarea, h1")) {
        if (control.closest("[hidden]") || control.getClientRects().length === 0) continue;
        const box = control.getBoundingClientRect();
        if (box.left < 0 || box.right > width + 0.5) {
            const name = `${control.tagName.toLowerCase()} "${(control.innerText || control.id).slice(0, 40)}"`;
            found.push(`${name} spans ${Math.round(box.left)}-${Math.round(box.right)} px`);
        }
    }
    return found;
}"""


def out_of_reach(page: Any) -> list[str]:
    """What sticks out of the window sideways: the page itself, or any control or heading."""
    return page.evaluate(_OUT_OF_REACH)


class Visit:
    """A page of the portal, with what the checks after the test need: console errors and the hosts asked."""

    def __init__(self, page: Any, stack: RunningStack):
        self.page = page
        self.stack = stack
        self.errors: list[str] = []
        self.hosts: set[str] = set()
        self.api_calls: list[tuple[str, str]] = []  # (method, path and query) of each call to the API
        # Chromium logs each 4xx answer as "Failed to load resource"; a test that provokes one names its status.
        self.expected_statuses: set[int] = set()
        api = urllib.parse.urlsplit(stack.api_url).netloc
        page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", self._asked)
        self._api = api
        page.set_default_timeout(15_000)

    def _asked(self, request: Any) -> None:
        address = urllib.parse.urlsplit(request.url)
        self.hosts.add(address.netloc)
        if address.netloc == self._api and request.method != "OPTIONS":
            self.api_calls.append((request.method, address.path + (f"?{address.query}" if address.query else "")))

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
        """Go to the order's page and wait until it shows that order (from another order's page, the old page
        stays, its buttons too, until the new one has drawn)."""
        self.page.goto(f"{self.stack.portal_url}/#/orders/{order_id}")
        self.page.wait_for_function(
            """id => document.querySelector("#cancel-order") !== null
                && document.querySelector("dd.order-id")?.textContent === id""",
            arg=order_id,
        )

    def focus_becomes(self, expected: str, timeout: float = 5) -> str:
        """The focused element once it is `expected`, or as it is after `timeout` seconds: the page moves focus
        after it has drawn, a moment after the click or key that asked for it."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.focused()
            if now == expected or time.monotonic() > deadline:
                return now
            self.page.wait_for_timeout(50)

    def focused(self) -> str:
        """The focused element, as `tag#id "text"`."""
        return self.page.evaluate(
            """() => {
                const e = document.activeElement;
                const text = (e.innerText || "").trim().slice(0, 60);
                return `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""} "${text}"`;
            }"""
        )
