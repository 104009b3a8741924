"""The demo data of `make run`: sellers with orders in every state, made over HTTP through the real API.

The orders are created and moved exactly as the portal and the warehouse would (ID tokens,
SigV4), so their history and notifications are the real ones. Order ids derive from the
seller and reference, so the banner (banner.py) can name them before anything is created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from infra.local.callers import Portal, Warehouse, session

DEMO_SELLERS = ("S-1", "S-2")


@dataclass(frozen=True)
class Step:
    by: str  # "seller" or "warehouse"
    action: str  # the path after /orders/{order_id} (seller) or /warehouse/orders/{order_id} (warehouse)
    body: dict[str, Any] | None = None


def _moves(*statuses: str) -> list[Step]:
    return [Step("warehouse", "/status", {"status": status}) for status in statuses]


@dataclass(frozen=True)
class DemoOrder:
    reference: str
    shows: str  # what the order demonstrates, for the banner
    steps: list[Step] = field(default_factory=list)


DEMO_ORDERS = (
    DemoOrder("SHOP-1001", "PENDING: cancel at once"),
    DemoOrder("SHOP-1002", "SENT_TO_WAREHOUSE: request a cancellation", _moves("SENT_TO_WAREHOUSE")),
    DemoOrder("SHOP-1003", "PICKED: request a cancellation", _moves("SENT_TO_WAREHOUSE", "PICKED")),
    DemoOrder("SHOP-1004", "PACKED: request a cancellation", _moves("SENT_TO_WAREHOUSE", "PACKED")),
    DemoOrder(
        "SHOP-1005",
        "DESPATCHED: cannot be cancelled",
        [
            *_moves("SENT_TO_WAREHOUSE", "PICKED", "PACKED"),
            Step("warehouse", "/status", {"status": "DESPATCHED", "tracking_number": "TRK-1005"}),
        ],
    ),
    DemoOrder("SHOP-1006", "CANCELLED by the seller", [Step("seller", "/cancel")]),
    DemoOrder(
        "SHOP-1007",
        "PICKED, cancellation REQUESTED: the warehouse decides",
        [
            *_moves("SENT_TO_WAREHOUSE", "PICKED"),
            Step("seller", "/cancellation-request", {"reason_code": "CUSTOMER_REQUEST", "note": "Ordered twice"}),
        ],
    ),
    DemoOrder(
        "SHOP-1008",
        "PACKED, cancellation REJECTED",
        [
            *_moves("SENT_TO_WAREHOUSE", "PACKED"),
            Step("seller", "/cancellation-request", {"reason_code": "ADDRESS_ERROR"}),
            Step("warehouse", "/cancellation-decision", {"decision": "REJECTED", "reason_code": "ALREADY_PACKED"}),
        ],
    ),
    DemoOrder(
        "SHOP-1009",
        "CANCELLED by the warehouse (request APPROVED)",
        [
            *_moves("SENT_TO_WAREHOUSE"),
            Step("seller", "/cancellation-request", {"reason_code": "DUPLICATE_ORDER"}),
            Step("warehouse", "/cancellation-decision", {"decision": "APPROVED"}),
        ],
    ),
    DemoOrder(
        "SHOP-1010",
        "ON_BACKORDER: the mug is short; split off the T-shirts",
        [
            Step(
                "warehouse",
                "/status",
                {
                    "status": "ON_BACKORDER",
                    "backordered_items": [{"line": 2, "sku": "MUG-WHITE", "quantity": 1}],
                    "expected_at": "2027-01-15",
                },
            )
        ],
    ),
)


def new_order(reference: str, seller_id: str) -> dict[str, Any]:
    return {
        "reference": reference,
        "items": [{"sku": "TSHIRT-RED-M", "quantity": 2}, {"sku": "MUG-WHITE", "quantity": 1}],
        "recipient": {
            "name": f"Customer of {seller_id}",
            "address_line1": "1 High Street",
            "city": "Leeds",
            "postcode": "LS1 1AA",
            "country": "GB",
        },
        "courier_service": "ROYAL_MAIL_48",
    }


def seed(api_url: str, order_id_for: Any, receiver: Any = None) -> None:
    """Every demo seller's webhook channel (on `receiver`) and orders, through the API; fails loudly if the
    API refuses a step."""
    http = session()
    warehouse = Warehouse(api_url, http=http)
    for seller_id in DEMO_SELLERS:
        portal = Portal(api_url, seller_id, http=http)
        if receiver is not None:
            path = f"/{seller_id}"
            answer = portal.request(
                "POST",
                "/notification-channels",
                {"url": receiver.url(path), "description": f"{seller_id}'s own system (the stack's receiver)"},
            )
            _expect(answer)
            receiver.secrets[path] = answer.json()["secret"]
        for order in DEMO_ORDERS:
            _expect(portal.request("POST", "/orders", new_order(order.reference, seller_id)))
            order_id = order_id_for(seller_id, order.reference)
            for step in order.steps:
                if step.by == "seller":
                    answer = portal.request("POST", f"/orders/{order_id}{step.action}", step.body)
                else:
                    answer = warehouse.post(f"/warehouse/orders/{order_id}{step.action}", step.body)
                _expect(answer)


def _expect(answer: requests.Response) -> None:
    if answer.status_code >= 300:
        raise RuntimeError(
            f"seeding the demo: {answer.request.method} {answer.url} -> {answer.status_code} {answer.text}"
        )
