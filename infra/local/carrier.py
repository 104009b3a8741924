"""The local stack's carrier (docs/api.md §12): the demo sellers' despatched parcels move along by themselves.

Local only (nothing of template.yaml): every `CARRIER_SECONDS` (environment variable
`LOCAL_CARRIER_SECONDS`, 20 by default, 0 to stop it) it lists each demo seller's DESPATCHED orders
as the portal does and sends each one's next courier event through the warehouse's own route,
`POST /warehouse/orders/{id}/tracking-events`, signed as the warehouse system signs: IN_TRANSIT, then
OUT_FOR_DELIVERY, then DELIVERED, one step a turn, so that `make run`'s Courier Status column
moves while one watches. `POST /_local/carrier` takes one turn at once (`?seller_id=` for another
seller's orders, as the end-to-end tests do, leaving the demo as seeded). Each event's id names the
order and the status, so a turn sent twice is one event (the route is idempotent per event_id).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from infra.local.callers import Portal, Warehouse, session
from infra.local.demo import DEMO_SELLERS

log = logging.getLogger("orders-local")

DEFAULT_SECONDS = 20.0
# The next step from each courier status, and where the carrier says it happened; none after DELIVERED.
NEXT_STEP: dict[str | None, tuple[str, str]] = {
    None: ("IN_TRANSIT", "Leeds Mail Centre"),
    "INFO_RECEIVED": ("IN_TRANSIT", "Leeds Mail Centre"),
    "IN_TRANSIT": ("OUT_FOR_DELIVERY", "Leeds Delivery Office"),
    "OUT_FOR_DELIVERY": ("DELIVERED", "Front door"),
}


def carrier_seconds(environment: dict[str, str] | None = None) -> float:
    """How often the carrier takes a turn: LOCAL_CARRIER_SECONDS (0: never), DEFAULT_SECONDS without it."""
    value = (environment if environment is not None else dict(os.environ)).get("LOCAL_CARRIER_SECONDS")
    return DEFAULT_SECONDS if value in (None, "") else max(0.0, float(value))


class Carrier:
    def __init__(self, api_url: str, sellers: Sequence[str] = DEMO_SELLERS):
        self.api_url = api_url
        self.sellers = tuple(sellers)
        self._http = session()
        self._portals: dict[str, Portal] = {}
        self._warehouse: Warehouse | None = None
        self._turn = threading.Lock()

    def turn(self, sellers: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """One step for every despatched order of the demo sellers (or of `sellers`) that has one to take:
        what was sent."""
        sent = []
        with self._turn:
            for seller_id in sellers or self.sellers:
                for order in self._despatched(seller_id):
                    step = self._step(order)
                    if step is not None:
                        sent.append(step)
        return sent

    def run(self, stop: threading.Event, seconds: float) -> None:
        while not stop.wait(seconds):
            try:
                for step in self.turn():
                    log.info("CARRIER %s %s", step["order_id"], step["status"])
            except Exception:  # the stack stopping under it, or the API refusing: the next turn tries again
                log.exception("the local carrier's turn failed")

    def _despatched(self, seller_id: str) -> list[dict[str, Any]]:
        portal = self._portals.get(seller_id)
        if portal is None:
            portal = self._portals[seller_id] = Portal(self.api_url, seller_id, http=self._http)
        answer = portal.request("GET", "/orders?status=DESPATCHED&limit=100")
        answer.raise_for_status()
        orders: list[dict[str, Any]] = answer.json()["orders"]
        return orders

    def _step(self, order: dict[str, Any]) -> dict[str, Any] | None:
        current = (order.get("courier_status") or {}).get("status")
        if current not in NEXT_STEP:
            return None
        status, location = NEXT_STEP[current]
        event = {
            "event_id": f"local-carrier-{order['order_id']}-{status}",
            "status": status,
            "occurred_at": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "location": location,
            "description": "The local stack's carrier simulator",
        }
        if self._warehouse is None:
            self._warehouse = Warehouse(self.api_url, http=self._http)
        answer = self._warehouse.post(f"/warehouse/orders/{order['order_id']}/tracking-events", {"events": [event]})
        answer.raise_for_status()
        return {"order_id": order["order_id"], "status": status}
