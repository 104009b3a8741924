"""The stored order: how an item of the orders table is laid out (`OrderItem`), built, and read back
into a `State`. Every other module asks this one about the item's layout.

An item holds the order's own fields (`ORDER_FIELDS`), `cancellation_request` (absent until a
request is made, then the map `new_request` builds) and `history`: one entry per change,
`{at, event, by, to_status?, changed?}`. `from_status` is not stored: it is the status the entry
before left, derived when read (`history_with_statuses`), so that every write is one update
expression that needs no read.

Every order holds `SELLER_STATUS`, its key in the listing by status (the index
`seller-orders-by-status`: one seller's orders of one status), and `STATUS_KEYS`, that key for each
status, written once at create: a write that moves the order copies the one of its new status, since
an update expression cannot build a string and the warehouse's writes do not know the seller. While its
request is pending, an order also holds the keys of the warehouse's queue (`QUEUE`, `QUEUE_DUE`: the
sparse index `pending-requests`) and, until it is escalated, `ESCALATION_DUE`
(the sparse index `escalation-due`, which the sweep reads). The request's write adds them; the
escalation's removes `ESCALATION_DUE`; the decision's (or the despatch's) removes all three.

Pure: the item is plain values here; orders.dynamodb turns it into DynamoDB's typed JSON and back.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any, Final, NotRequired, TypedDict, cast

from orders.domain import Caller, Details, Event, Growth, OrderStatus, RequestStatus, Seller, State
from orders.tracking import CourierStatusRecord, EventRecord


class LineRecord(TypedDict):
    sku: str
    quantity: int


class RecipientRecord(TypedDict):
    name: str
    address_line1: str
    address_line2: NotRequired[str | None]
    city: str
    postcode: str
    country: str


class HistoryRecord(TypedDict):
    at: str
    event: str
    by: str
    to_status: NotRequired[str]
    changed: NotRequired[list[str]]
    split_from: NotRequired[str]  # ORDER_CREATED of an order split off another (docs/api.md §11)
    split_into: NotRequired[str]  # ORDER_SPLIT: the order split off this one


class RequestRecord(TypedDict):
    status: str
    reason_code: str | None
    note: str | None
    requested_at: str
    # Requests made before the time limit existed have neither.
    due_at: NotRequired[str | None]
    escalated_at: NotRequired[str | None]
    decision_reason_code: str | None
    decision_note: str | None
    decided_at: str | None


class BackorderedLine(TypedDict):
    line: int  # 1-based position in `items`
    sku: str
    quantity: int


class BackorderRecord(TypedDict):
    """What the warehouse marked short (docs/api.md §11): the lines, when it marked them, when stock is due."""

    items: list[BackorderedLine]
    since: str
    expected_at: str | None


class ListedOrder(TypedDict):
    """An order as the listing indexes and the queue hold it (their projection, `LISTED`): all but its history."""

    order_id: str
    seller_id: str
    reference: str
    items: list[LineRecord]
    recipient: RecipientRecord
    courier_service: str
    status: str
    tracking_number: str | None
    created_at: str
    updated_at: str
    version: int
    cancellation_request: NotRequired[RequestRecord]
    edits: NotRequired[int]  # how many times the seller edited it (absent: never)
    queue_due: NotRequired[str]  # the queue's sort key, while its request is pending
    courier_status: NotRequired[CourierStatusRecord]  # docs/api.md §12: absent until the courier's first event
    backorder: NotRequired[BackorderRecord]  # while ON_BACKORDER
    split_from: NotRequired[str]  # the order this one was split off
    split_into: NotRequired[list[str]]  # the orders split off this one, oldest first


class OrderItem(ListedOrder):
    """An item of the orders table, as `orders.dynamodb.from_item` reads it and `new_item` builds it."""

    history: list[HistoryRecord]
    seller_status: NotRequired[str]  # absent only in items written before the listing by status was per seller
    status_keys: NotRequired[dict[str, str]]
    queue: NotRequired[str]
    escalation_due: NotRequired[str]


KEY: Final = "order_id"
SELLER: Final = "seller_id"
STATUS: Final = "status"
REQUEST: Final = "cancellation_request"
HISTORY: Final = "history"
EDITS: Final = "edits"
BACKORDER: Final = "backorder"
SPLIT_FROM: Final = "split_from"
SPLIT_INTO: Final = "split_into"
VERSION: Final = "version"
COURIER_STATUS: Final = "courier_status"
SELLER_STATUS: Final = "seller_status"  # the partition key of the listing by status
STATUS_KEYS: Final = "status_keys"  # that key for every status
# The pending-request indexes: one partition, sorted by "<due_at>#<order_id>" (most urgent first).
QUEUE: Final = "queue"
QUEUE_DUE: Final = "queue_due"
ESCALATION_DUE: Final = "escalation_due"
QUEUE_PARTITION: Final = "CANCELLATION_REQUESTS"
QUEUE_ATTRIBUTES = (QUEUE, QUEUE_DUE, ESCALATION_DUE)

# The order's own fields, shown to callers as they are stored.
ORDER_FIELDS = (
    "order_id",
    "seller_id",
    "items",
    "recipient",
    "reference",
    "status",
    "courier_service",
    "tracking_number",
    "created_at",
    "updated_at",
    "version",
    "courier_status",
)
# The cancellation request's fields that a decision writes.
DECISION_FIELDS = ("decision_reason_code", "decision_note", "decided_at")


def read(values: Mapping[str, Any]) -> OrderItem:
    """An item of the orders table, as DynamoDB handed it back (orders.dynamodb.from_item's plain values).

    The one place a plain dict becomes an `OrderItem`: every item of the table is written by this
    module's `new_item` and the store's update expressions, so its layout is this module's.
    """
    return cast(OrderItem, values)


def read_listed(values: Mapping[str, Any]) -> ListedOrder:
    """An item of a listing index or the queue (their projection, `LISTED`), as DynamoDB handed it back."""
    return cast(ListedOrder, values)


def order_id_for(seller_id: str, reference: str) -> str:
    """The id of a seller's order with this reference: the same every time, so create is idempotent."""
    digest = hashlib.sha256(f"{seller_id}\x00{reference}".encode()).digest()
    return "ord_" + base64.b32encode(digest).decode().lower()[:26]


# What the listing indexes and the queue project: the order but its growing history (template.yaml's
# NonKeyAttributes, with each index's keys; tests/unit/test_template.py holds the two together). The last
# four are the courier's status and the backorder and split of later sections, projected in advance.
LISTED = (
    "order_id",
    "seller_id",
    "created_at",
    "reference",
    "status",
    "items",
    "recipient",
    "courier_service",
    "tracking_number",
    "updated_at",
    "version",
    "cancellation_request",
    "edits",
    "courier_status",
    "backorder",
    "split_from",
    "split_into",
)


def seller_status(seller_id: str, status: str) -> str:
    """The listing by status's partition key: one seller's orders of one status.

    The seller id is prefixed with its length, so that no seller's key is another's (`3:S-1#PENDING`
    is not `5:S-1#P#PENDING`, whatever the ids hold).
    """
    return f"{len(seller_id)}:{seller_id}#{status}"


def new_item(seller_id: str, draft: dict[str, Any], at: str) -> OrderItem:
    """A new order's item: the seller's draft (reference, items, recipient, courier) as received at `at`."""
    return read(
        {
            "order_id": order_id_for(seller_id, draft["reference"]),
            "seller_id": seller_id,
            **draft,
            "status": OrderStatus.PENDING.value,
            "tracking_number": None,
            "created_at": at,
            SELLER_STATUS: seller_status(seller_id, OrderStatus.PENDING),
            STATUS_KEYS: {status.value: seller_status(seller_id, status) for status in OrderStatus},
            "updated_at": at,
            "version": 1,
            "history": [history_entry(at, Event.ORDER_CREATED, Seller(seller_id), OrderStatus.PENDING)],
        }
    )


def new_request(details: Details, at: str, due_at: str) -> RequestRecord:
    """The `cancellation_request` map a seller's request writes: due `due_at`, not escalated yet."""
    return {
        "status": RequestStatus.REQUESTED.value,
        "reason_code": details.reason_code,
        "note": details.note,
        "requested_at": at,
        "due_at": due_at,
        "escalated_at": None,
        "decision_reason_code": None,
        "decision_note": None,
        "decided_at": None,
    }


def queue_position(due_at: str, order_id: str) -> str:
    """The sort key of both pending-request indexes: by due time, then by order id."""
    return f"{due_at}#{order_id}"


def due_by(at: str) -> str:
    """The sort key bound below which (exclusive) every request due at or before `at` lies.

    "$" is the character after "#": "<at>#<any id>" < "<at>$", and a later due time is above it.
    """
    return f"{at}$"


def queue_keys(due_at: str, order_id: str) -> dict[str, str]:
    """The attributes a pending request adds, putting the order in both pending-request indexes."""
    position = queue_position(due_at, order_id)
    return {QUEUE: QUEUE_PARTITION, QUEUE_DUE: position, ESCALATION_DUE: position}


def split_reference(reference: str, splits: int) -> str:
    """The reference of the order split off one with `reference` that was split `splits` times before:
    `-2` for the first, `-3` for the next (docs/api.md §11)."""
    return f"{reference}-{splits + 2}"


def new_split_item(original: ListedOrder, ships: list[dict[str, Any]], at: str) -> OrderItem:
    """The order split off `original` at `at`: what ships now, PENDING, its id derived from its reference
    (as create derives one), so that a retried or raced split derives the same id again."""
    seller_id = original[SELLER]
    reference = split_reference(original["reference"], len(original.get(SPLIT_INTO, [])))
    draft = {
        "reference": reference,
        "items": ships,
        "recipient": original["recipient"],
        "courier_service": original["courier_service"],
    }
    made = new_item(seller_id, draft, at)
    made[SPLIT_FROM] = original[KEY]
    made[HISTORY][0][SPLIT_FROM] = original[KEY]
    return made


def backorder_record(backordered: list[Mapping[str, Any]], at: str, expected_at: str | None) -> BackorderRecord:
    lines: list[BackorderedLine] = [
        {"line": entry["line"], "sku": entry["sku"], "quantity": entry["quantity"]} for entry in backordered
    ]
    return {"items": lines, "since": at, "expected_at": expected_at}


def backorder_of(item: ListedOrder) -> BackorderRecord | None:
    return item.get(BACKORDER)


def history_entry(
    at: str, event: Event, caller: Caller, to_status: OrderStatus | None, changed: list[str] | None = None
) -> HistoryRecord:
    """One change's history entry; `to_status` only where the change moves the status, `changed` for an edit."""
    entry: HistoryRecord = {"at": at, "event": event.value, "by": caller.label}
    if to_status:
        entry["to_status"] = to_status.value
    if changed:
        entry["changed"] = changed
    return entry


def growth_of(item: ListedOrder) -> Growth:
    """How far the order has grown towards its bounds (docs/api.md §15). Its history holds one entry per
    version (the store writes both in every change), so a listed order, without its history, tells it too."""
    return Growth(edits=item.get(EDITS, 0), history=item[VERSION], splits=len(item.get(SPLIT_INTO, [])))


def state_of(item: ListedOrder) -> State:
    """What the rules look at in a stored order."""
    request = item.get(REQUEST)
    return State(OrderStatus(item[STATUS]), RequestStatus(request["status"]) if request else None)


def visible_to(item: ListedOrder | None, caller: Caller) -> bool:
    """Whether the item exists for `caller`: another seller's order does not."""
    return item is not None and caller.may_see(item[SELLER])


def request_of(item: ListedOrder) -> RequestRecord | None:
    """The cancellation request as stored (None when there is none)."""
    return item.get(REQUEST)


def reached_at(item: OrderItem, status: OrderStatus) -> str | None:
    """When the order last moved to `status`, from its history."""
    return next((entry["at"] for entry in reversed(item[HISTORY]) if entry.get("to_status") == status), None)


def is_one_change(old: OrderItem | None, new: OrderItem) -> bool:
    """Whether a write from `old` to `new` is one change made by the store: one version and one entry more."""
    version, entries = (old[VERSION], len(old[HISTORY])) if old is not None else (0, 0)
    return new[VERSION] == version + 1 and len(new[HISTORY]) == entries + 1


def last_change(item: OrderItem) -> HistoryRecord:
    """The history entry of the write that made this item."""
    return item[HISTORY][-1]


def history_with_statuses(stored: list[HistoryRecord]) -> list[dict[str, Any]]:
    """Each entry with its from/to status: the status the one before it left, and its own (if it moved)."""
    entries: list[dict[str, Any]] = []
    status: str | None = None
    for entry in stored:
        to_status = entry.get("to_status") or status
        entries.append({**entry, "from_status": status, "to_status": to_status})
        status = to_status
    return entries


# -- the tracking timeline (docs/api.md §12) --------------------------------------------------------


class TrackingItem(TypedDict):
    """An item of the tracking table: one despatched order's timeline, apart from the order's own item so
    that the order's size stays bounded (docs/api.md §15). Keyed by the order's id; `version` counts its
    writes (each one conditioned on the version it read), `dropped` the events that went beyond the bound."""

    order_id: str
    version: int
    events: list[EventRecord]  # oldest first, at most tracking.MAX_KEPT
    dropped: int


def read_tracking(values: Mapping[str, Any] | None, order_id: str) -> TrackingItem:
    """A tracking item as DynamoDB handed it back; an order without one has an empty timeline at version 0."""
    if values is None:
        return {"order_id": order_id, "version": 0, "events": [], "dropped": 0}
    return cast(TrackingItem, values)
