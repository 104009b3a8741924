"""The contract's command names (tests/support/contract.py) as domain actions and API calls."""

from __future__ import annotations

import itertools
import uuid

from orders.couriers import SERVICE_CODES
from orders.domain import Action, Details, OrderStatus, RequestStatus, State

ACTIONS = {
    "cancel": Action.CANCEL,
    "request": Action.REQUEST_CANCELLATION,
    "approve": Action.APPROVE_CANCELLATION,
    "reject": Action.REJECT_CANCELLATION,
    "edit": Action.EDIT,
    **{
        status: Action.move_to(OrderStatus(status))
        for status in ("SENT_TO_WAREHOUSE", "PICKED", "PACKED", "DESPATCHED")
    },
}


# The commands a seller sends; the others are the warehouse's.
SELLER_COMMANDS = ("cancel", "request", "edit")


def state(name: str) -> State:
    status, request = name.split("/")
    return State(OrderStatus(status), None if request == "-" else RequestStatus(request))


def name_of(state: State) -> str:
    return f"{state.status}/{state.request or '-'}"


def state_name(order: dict) -> str:
    """The contract's name of an order's state (`PICKED/REQUESTED`), as the API shows it or the table stores it."""
    request = order["cancellation"]["request"] if "cancellation" in order else order.get("cancellation_request")
    return f"{order['status']}/{request['status'] if request else '-'}"


def http_call(command: str) -> tuple[str, dict | None, str]:
    """(resource, body, caller) of the API call that sends `command`; caller is "seller" or "warehouse"."""
    if command == "cancel":
        return "/orders/{order_id}/cancel", None, "seller"
    if command == "edit":
        return "/orders/{order_id}", next_listed_courier(), "seller"
    if command == "request":
        return (
            "/orders/{order_id}/cancellation-request",
            {"reason_code": "CUSTOMER_REQUEST", "note": "Sent twice"},
            "seller",
        )
    if command == "approve":
        return "/warehouse/orders/{order_id}/cancellation-decision", {"decision": "APPROVED"}, "warehouse"
    if command == "reject":
        body = {"decision": "REJECTED", "reason_code": "ALREADY_PACKED", "note": "In the courier cage"}
        return "/warehouse/orders/{order_id}/cancellation-decision", body, "warehouse"
    return "/warehouse/orders/{order_id}/status", {"status": command}, "warehouse"


def method_of(command: str) -> str:
    """The HTTP method that sends `command`: an edit is a PATCH, every other command a POST."""
    return "PATCH" if command == "edit" else "POST"


def new_courier() -> dict:
    """An edit that always changes something: a courier service no order has yet."""
    return {"courier_service": f"COURIER-{uuid.uuid4().hex[:12]}"}


# The catalogue's codes but the one every test order is created with (docs/api.md §12: an edit over HTTP
# names a listed code), taken in turn so that two edits in a row name different ones.
_OTHER_COURIERS = itertools.cycle([code for code in SERVICE_CODES if code != "ROYAL_MAIL_48"])


def next_listed_courier() -> dict:
    """An edit over HTTP that changes something on an order created with ROYAL_MAIL_48 (or last edited to
    the code before this one): the next code of the catalogue."""
    return {"courier_service": next(_OTHER_COURIERS)}


def details_for(command: str) -> Details:
    """What the store is handed with `command` when the test sends it straight to the store."""
    if command == "reject":
        return Details(reason_code="ALREADY_PACKED")
    if command == "edit":
        return Details(changes=new_courier())
    return Details()
