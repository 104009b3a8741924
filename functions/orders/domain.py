"""The order, its statuses and the rules of docs/api.md §2, as data. Pure: no AWS, no I/O.

Every command is looked up in one table keyed by the order's `State` (its status and the
state of its cancellation request). The answer is an `Outcome`: a `Transition` to write,
`Unchanged` (success, nothing to write) or a `Refusal`, the contract's error code. The
store turns the set of states in which a command makes a given transition into the
condition of its one DynamoDB write, so the rule that is checked is the rule that is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, Literal, get_args


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    # docs/api.md §11: not yet sent to the warehouse because some of its stock is short.
    ON_BACKORDER = "ON_BACKORDER"
    SENT_TO_WAREHOUSE = "SENT_TO_WAREHOUSE"
    PICKED = "PICKED"
    PACKED = "PACKED"
    DESPATCHED = "DESPATCHED"
    CANCELLED = "CANCELLED"


# The forward order of the fulfilment statuses; CANCELLED stands outside it.
FULFILMENT_ORDER = (
    OrderStatus.PENDING,
    OrderStatus.SENT_TO_WAREHOUSE,
    OrderStatus.PICKED,
    OrderStatus.PACKED,
    OrderStatus.DESPATCHED,
)
# Not yet in the warehouse: the seller cancels and edits these at once (docs/api.md §11).
BEFORE_WAREHOUSE = (OrderStatus.PENDING, OrderStatus.ON_BACKORDER)
IN_WAREHOUSE = (OrderStatus.SENT_TO_WAREHOUSE, OrderStatus.PICKED, OrderStatus.PACKED)
WAREHOUSE_STATUSES = (
    OrderStatus.SENT_TO_WAREHOUSE,
    OrderStatus.PICKED,
    OrderStatus.PACKED,
    OrderStatus.DESPATCHED,
)


class RequestStatus(StrEnum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class Event(StrEnum):
    ORDER_CREATED = "ORDER_CREATED"
    STATUS_CHANGED = "STATUS_CHANGED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    CANCELLATION_REQUESTED = "CANCELLATION_REQUESTED"
    CANCELLATION_APPROVED = "CANCELLATION_APPROVED"
    CANCELLATION_REJECTED = "CANCELLATION_REJECTED"
    ORDER_EDITED = "ORDER_EDITED"
    # Not a command: the escalation sweep's mark on a request still pending after its due time.
    CANCELLATION_REQUEST_OVERDUE = "CANCELLATION_REQUEST_OVERDUE"
    # Not a command: a despatched order's courier status moved (docs/api.md §12).
    COURIER_STATUS_CHANGED = "COURIER_STATUS_CHANGED"

    # docs/api.md §11. The backorder's history entry is STATUS_CHANGED (to ON_BACKORDER): `told` names it.
    ORDER_BACKORDERED = "ORDER_BACKORDERED"
    ORDER_SPLIT = "ORDER_SPLIT"


# The events of docs/api.md §4: what a seller or the warehouse must be told. The one list of them:
# the notifier tells these, channels take a subset of them, and the OpenAPI document enumerates them.
NotifiedEvent = Literal[
    "ORDER_CANCELLED",
    "CANCELLATION_REQUESTED",
    "CANCELLATION_APPROVED",
    "CANCELLATION_REJECTED",
    "CANCELLATION_REQUEST_OVERDUE",
    "COURIER_STATUS_CHANGED",
    "ORDER_BACKORDERED",
    "ORDER_SPLIT",
]
NOTIFIED_EVENT_NAMES: tuple[str, ...] = get_args(NotifiedEvent)
NOTIFIED_EVENTS = frozenset(Event(name) for name in NOTIFIED_EVENT_NAMES)


def told(event: str, to_status: str | None) -> Event | None:
    """The notified event a history entry tells, if any: a move to ON_BACKORDER is ORDER_BACKORDERED."""
    recorded = Event(event)  # an entry naming no event is no change of ours: ValueError
    if recorded == Event.STATUS_CHANGED and to_status == OrderStatus.ON_BACKORDER:
        return Event.ORDER_BACKORDERED
    return recorded if recorded in NOTIFIED_EVENTS else None


# A refused cell of the rules table is its Refusal; the docstring is the OpenAPI schema's description.
class Refusal(StrEnum):
    """Why a command changed nothing: the `code` of a 409, or the greyed-out button's reason."""

    ORDER_NOT_IN_WAREHOUSE = "ORDER_NOT_IN_WAREHOUSE"
    ORDER_IN_WAREHOUSE = "ORDER_IN_WAREHOUSE"
    CANCELLATION_PENDING = "CANCELLATION_PENDING"
    CANCELLATION_REJECTED = "CANCELLATION_REJECTED"
    ORDER_DESPATCHED = "ORDER_DESPATCHED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    DECISION_CONFLICT = "DECISION_CONFLICT"
    NO_CANCELLATION_REQUEST = "NO_CANCELLATION_REQUEST"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    # docs/api.md §15: a bound the change would pass.
    EDIT_LIMIT = "EDIT_LIMIT"
    HISTORY_LIMIT = "HISTORY_LIMIT"
    # docs/api.md §12: tracking events come for a despatched order only.
    ORDER_NOT_DESPATCHED = "ORDER_NOT_DESPATCHED"

    # docs/api.md §11: a split the order's state or lines forbid, and the bound of its split_into.
    NOT_ON_BACKORDER = "NOT_ON_BACKORDER"
    NOTHING_IN_STOCK = "NOTHING_IN_STOCK"
    SPLIT_LIMIT = "SPLIT_LIMIT"


class SellerReason(StrEnum):
    CUSTOMER_REQUEST = "CUSTOMER_REQUEST"
    ADDRESS_ERROR = "ADDRESS_ERROR"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    FRAUD_SUSPECTED = "FRAUD_SUSPECTED"
    OTHER = "OTHER"


class WarehouseReason(StrEnum):
    ALREADY_PACKED = "ALREADY_PACKED"
    IN_COURIER_COLLECTION = "IN_COURIER_COLLECTION"
    ORDER_DESPATCHED = "ORDER_DESPATCHED"
    OTHER = "OTHER"


class CancellationOption(StrEnum):
    CANCEL = "CANCEL"
    REQUEST = "REQUEST"
    NONE = "NONE"


class EditingOption(StrEnum):
    EDIT = "EDIT"
    NONE = "NONE"


class SplittingOption(StrEnum):
    SPLIT = "SPLIT"
    NONE = "NONE"


class Action(StrEnum):
    """Every command either side can send, as the rules table's column key."""

    CANCEL = "CANCEL"
    REQUEST_CANCELLATION = "REQUEST_CANCELLATION"
    EDIT = "EDIT"
    # An edit that replaces `items`: an ON_BACKORDER order goes back to PENDING (docs/api.md §11).
    EDIT_ITEMS = "EDIT_ITEMS"
    SPLIT = "SPLIT"
    APPROVE_CANCELLATION = "APPROVE_CANCELLATION"
    REJECT_CANCELLATION = "REJECT_CANCELLATION"
    MOVE_TO_PENDING = "MOVE_TO_PENDING"
    MOVE_TO_ON_BACKORDER = "MOVE_TO_ON_BACKORDER"
    MOVE_TO_SENT_TO_WAREHOUSE = "MOVE_TO_SENT_TO_WAREHOUSE"
    MOVE_TO_PICKED = "MOVE_TO_PICKED"
    MOVE_TO_PACKED = "MOVE_TO_PACKED"
    MOVE_TO_DESPATCHED = "MOVE_TO_DESPATCHED"

    @classmethod
    def move_to(cls, status: OrderStatus) -> Action:
        return cls(f"MOVE_TO_{status}")

    @property
    def target_status(self) -> OrderStatus | None:
        """The status a warehouse status update moves to; None for the other commands."""
        prefix = "MOVE_TO_"
        return OrderStatus(self.value.removeprefix(prefix)) if self.value.startswith(prefix) else None


@dataclass(frozen=True, order=True)
class State:
    """What the rules look at: the order's status and its cancellation request's status."""

    status: OrderStatus
    request: RequestStatus | None = None

    def __str__(self) -> str:
        return f"{self.status}/{self.request or 'no request'}"


# Every state an order can reach through the rules; the table is total over these.
ALL_STATES = (
    State(OrderStatus.PENDING),
    State(OrderStatus.ON_BACKORDER),
    *(
        State(status, request)
        for status in IN_WAREHOUSE
        for request in (None, RequestStatus.REQUESTED, RequestStatus.REJECTED)
    ),
    State(OrderStatus.DESPATCHED),
    State(OrderStatus.DESPATCHED, RequestStatus.REJECTED),
    State(OrderStatus.CANCELLED),
    State(OrderStatus.CANCELLED, RequestStatus.APPROVED),
)


@dataclass(frozen=True)
class Seller:
    """A seller sending a command: they may only see and touch their own orders."""

    seller_id: str

    @property
    def label(self) -> str:
        """The history's `by`."""
        return f"seller:{self.seller_id}"

    def may_see(self, seller_id: str) -> bool:
        """Whether an order of `seller_id` exists for this seller (another seller's is absent)."""
        return seller_id == self.seller_id


@dataclass(frozen=True)
class Operator:
    """The warehouse system, or the service itself (the escalation sweep): every seller's orders are theirs to see."""

    label: str  # the history's `by`: "warehouse" or "system"

    def may_see(self, seller_id: str) -> bool:
        return True


# Who sends a command.
Caller = Seller | Operator
WAREHOUSE = Operator("warehouse")
SYSTEM = Operator("system")


@dataclass(frozen=True)
class Details:
    """What the caller sent along with a command."""

    reason_code: str | None = None
    note: str | None = None
    tracking_number: str | None = None
    # An edit: the fields it replaces, each whole, and the versions If-Match names (None: any version).
    changes: Mapping[str, Any] | None = None
    expected_versions: frozenset[int] | None = None
    # A backorder's marking: the lines short ({"line", "sku", "quantity"}) and when stock is expected.
    backordered_items: tuple[Mapping[str, Any], ...] | None = None
    expected_at: str | None = None


@dataclass(frozen=True)
class Transition:
    """A change to write: the new status and request status (None keeps the current one)."""

    event: Event
    status: OrderStatus | None = None
    request: RequestStatus | None = None
    decision_reason: WarehouseReason | None = None

    def apply(self, state: State) -> State:
        return State(self.status or state.status, self.request or state.request)

    @property
    def marks_backorder(self) -> bool:
        return self.status == OrderStatus.ON_BACKORDER

    @property
    def clears_backorder(self) -> bool:
        """Stock arrived, the order went to the warehouse, or its lines were replaced: its backorder is gone."""
        return self.status in (OrderStatus.PENDING, OrderStatus.SENT_TO_WAREHOUSE)


@dataclass(frozen=True)
class Unchanged:
    """Success with nothing to write: the order already is where the command would take it."""


# A refused cell of the table is the `Refusal` itself: the code of its 409.
Outcome = Transition | Unchanged | Refusal


class Row(StrEnum):
    """The rows of the seller table in docs/api.md §2."""

    PENDING = "PENDING"
    ON_BACKORDER = "ON_BACKORDER"
    IN_WAREHOUSE = "IN_WAREHOUSE"
    CANCELLATION_PENDING = "CANCELLATION_PENDING"
    CANCELLATION_REJECTED = "CANCELLATION_REJECTED"
    DESPATCHED = "DESPATCHED"
    CANCELLED = "CANCELLED"

    @classmethod
    def of(cls, state: State) -> Row:
        if state.status in IN_WAREHOUSE:
            return {
                None: cls.IN_WAREHOUSE,
                RequestStatus.REQUESTED: cls.CANCELLATION_PENDING,
                RequestStatus.REJECTED: cls.CANCELLATION_REJECTED,
            }[state.request]
        return cls(state.status)


# An items edit before the warehouse is one transition from both PENDING and ON_BACKORDER (to PENDING,
# clearing any backorder), so that it is one write whatever the order's status (docs/api.md §10).
_ITEMS_EDITED = Transition(Event.ORDER_EDITED, status=OrderStatus.PENDING)

SELLER_RULES: dict[Row, dict[Action, Outcome]] = {
    Row.PENDING: {
        Action.CANCEL: Transition(Event.ORDER_CANCELLED, status=OrderStatus.CANCELLED),
        Action.REQUEST_CANCELLATION: Refusal.ORDER_NOT_IN_WAREHOUSE,
        Action.EDIT: Transition(Event.ORDER_EDITED),
        Action.EDIT_ITEMS: _ITEMS_EDITED,
        Action.SPLIT: Refusal.NOT_ON_BACKORDER,
    },
    Row.ON_BACKORDER: {
        Action.CANCEL: Transition(Event.ORDER_CANCELLED, status=OrderStatus.CANCELLED),
        Action.REQUEST_CANCELLATION: Refusal.ORDER_NOT_IN_WAREHOUSE,
        Action.EDIT: Transition(Event.ORDER_EDITED),
        Action.EDIT_ITEMS: _ITEMS_EDITED,
        Action.SPLIT: Transition(Event.ORDER_SPLIT),
    },
    Row.IN_WAREHOUSE: {
        Action.CANCEL: Refusal.ORDER_IN_WAREHOUSE,
        Action.REQUEST_CANCELLATION: Transition(Event.CANCELLATION_REQUESTED, request=RequestStatus.REQUESTED),
        Action.EDIT: Refusal.ORDER_IN_WAREHOUSE,
        Action.EDIT_ITEMS: Refusal.ORDER_IN_WAREHOUSE,
        Action.SPLIT: Refusal.ORDER_IN_WAREHOUSE,
    },
    Row.CANCELLATION_PENDING: {
        Action.CANCEL: Refusal.CANCELLATION_PENDING,
        Action.REQUEST_CANCELLATION: Unchanged(),
        Action.EDIT: Refusal.ORDER_IN_WAREHOUSE,
        Action.EDIT_ITEMS: Refusal.ORDER_IN_WAREHOUSE,
        Action.SPLIT: Refusal.ORDER_IN_WAREHOUSE,
    },
    Row.CANCELLATION_REJECTED: {
        Action.CANCEL: Refusal.CANCELLATION_REJECTED,
        Action.REQUEST_CANCELLATION: Refusal.CANCELLATION_REJECTED,
        Action.EDIT: Refusal.ORDER_IN_WAREHOUSE,
        Action.EDIT_ITEMS: Refusal.ORDER_IN_WAREHOUSE,
        Action.SPLIT: Refusal.ORDER_IN_WAREHOUSE,
    },
    Row.DESPATCHED: {
        Action.CANCEL: Refusal.ORDER_DESPATCHED,
        Action.REQUEST_CANCELLATION: Refusal.ORDER_DESPATCHED,
        Action.EDIT: Refusal.ORDER_DESPATCHED,
        Action.EDIT_ITEMS: Refusal.ORDER_DESPATCHED,
        Action.SPLIT: Refusal.ORDER_DESPATCHED,
    },
    Row.CANCELLED: {
        Action.CANCEL: Unchanged(),
        Action.REQUEST_CANCELLATION: Refusal.ORDER_CANCELLED,
        Action.EDIT: Refusal.ORDER_CANCELLED,
        Action.EDIT_ITEMS: Refusal.ORDER_CANCELLED,
        Action.SPLIT: Refusal.ORDER_CANCELLED,
    },
}
SELLER_ACTIONS = (Action.CANCEL, Action.REQUEST_CANCELLATION, Action.EDIT, Action.EDIT_ITEMS, Action.SPLIT)


class RequestRow(StrEnum):
    """The rows of the warehouse table in docs/api.md §2."""

    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    NO_REQUEST = "NO_REQUEST"
    CANCELLED_DIRECTLY = "CANCELLED_DIRECTLY"

    @classmethod
    def of(cls, state: State) -> RequestRow:
        if state.request is not None:
            return cls(state.request)
        return cls.CANCELLED_DIRECTLY if state.status == OrderStatus.CANCELLED else cls.NO_REQUEST


DECISION_RULES: dict[RequestRow, dict[Action, Outcome]] = {
    RequestRow.REQUESTED: {
        Action.APPROVE_CANCELLATION: Transition(
            Event.CANCELLATION_APPROVED, status=OrderStatus.CANCELLED, request=RequestStatus.APPROVED
        ),
        Action.REJECT_CANCELLATION: Transition(Event.CANCELLATION_REJECTED, request=RequestStatus.REJECTED),
    },
    RequestRow.APPROVED: {
        Action.APPROVE_CANCELLATION: Unchanged(),
        Action.REJECT_CANCELLATION: Refusal.DECISION_CONFLICT,
    },
    RequestRow.REJECTED: {
        Action.APPROVE_CANCELLATION: Refusal.DECISION_CONFLICT,
        Action.REJECT_CANCELLATION: Unchanged(),
    },
    RequestRow.NO_REQUEST: {
        Action.APPROVE_CANCELLATION: Refusal.NO_CANCELLATION_REQUEST,
        Action.REJECT_CANCELLATION: Refusal.NO_CANCELLATION_REQUEST,
    },
    RequestRow.CANCELLED_DIRECTLY: {
        Action.APPROVE_CANCELLATION: Refusal.NO_CANCELLATION_REQUEST,
        Action.REJECT_CANCELLATION: Refusal.NO_CANCELLATION_REQUEST,
    },
}


def _before_the_warehouse(state: State, target: OrderStatus) -> Outcome:
    """Between PENDING and ON_BACKORDER (docs/api.md §11): a backorder is marked, or marked anew (its lines
    changed; the write's condition makes the same lines "200, unchanged"), and stock arriving ends it."""
    if target == OrderStatus.ON_BACKORDER:
        return Transition(Event.STATUS_CHANGED, status=OrderStatus.ON_BACKORDER)
    if state.status == OrderStatus.PENDING:
        return Unchanged()
    return Transition(Event.STATUS_CHANGED, status=OrderStatus.PENDING)


def _status_update(state: State, target: OrderStatus) -> Outcome:
    """The "status update" column: forward moves, with despatch rejecting a pending request."""
    if state.status == OrderStatus.CANCELLED:
        return Refusal.ORDER_CANCELLED
    if target in BEFORE_WAREHOUSE:
        return _before_the_warehouse(state, target) if state.status in BEFORE_WAREHOUSE else Refusal.INVALID_TRANSITION
    if target == state.status:
        return Unchanged()
    # ON_BACKORDER stands where PENDING does: before the warehouse.
    status = OrderStatus.PENDING if state.status == OrderStatus.ON_BACKORDER else state.status
    current, wanted = FULFILMENT_ORDER.index(status), FULFILMENT_ORDER.index(target)
    skips_the_warehouse = status == OrderStatus.PENDING and target != OrderStatus.SENT_TO_WAREHOUSE
    if wanted < current or skips_the_warehouse:
        return Refusal.INVALID_TRANSITION
    if target == OrderStatus.DESPATCHED and state.request == RequestStatus.REQUESTED:
        return Transition(
            Event.CANCELLATION_REJECTED,
            status=OrderStatus.DESPATCHED,
            request=RequestStatus.REJECTED,
            decision_reason=WarehouseReason.ORDER_DESPATCHED,
        )
    return Transition(Event.STATUS_CHANGED, status=target)


@cache
def decide(state: State, action: Action) -> Outcome:
    """The contract's answer to `action` on an order in `state`."""
    if action in SELLER_ACTIONS:
        return SELLER_RULES[Row.of(state)][action]
    if action in (Action.APPROVE_CANCELLATION, Action.REJECT_CANCELLATION):
        return DECISION_RULES[RequestRow.of(state)][action]
    target = action.target_status
    if target is None:
        raise ValueError(f"{action} is in no column of the rules table")
    return _status_update(state, target)


@cache
def transitions(action: Action) -> dict[Transition, tuple[State, ...]]:
    """Each transition `action` can make, with the states it makes it from.

    The store writes one conditional update per entry: the states are its condition.
    Entries come most common first, so that the first write is usually the only one.
    """
    grouped: dict[Transition, list[State]] = {}
    for state in ALL_STATES:
        outcome = decide(state, action)
        if isinstance(outcome, Transition):
            grouped.setdefault(outcome, []).append(state)
    return {
        transition: tuple(states) for transition, states in sorted(grouped.items(), key=lambda entry: -len(entry[1]))
    }


# -- how far an order may grow (docs/api.md §15) ---------------------------------------------------

# An order is edited at most this many times: each edit adds a history entry, and DynamoDB refuses an
# item over 400 KB, after which nothing could change the order again.
MAX_EDITS = 100
# The history's own bound: the lifecycle adds at most 9 entries (created, four status moves, a request,
# its escalation, its decision, a cancel) and the edits MAX_EDITS, so only an item written before these
# bounds existed can reach it; such an order is refused, never failed with an oversized write.
MAX_HISTORY = 250
# An order is split at most this many times (its split_into's bound).
MAX_SPLITS = 20


@dataclass(frozen=True)
class Growth:
    """How far an order has grown towards its bounds: the edits made, the history's entries."""

    edits: int = 0
    history: int = 0
    splits: int = 0


NEW_ORDER_GROWTH = Growth()


def bound(action: Action, growth: Growth) -> Refusal | None:
    """The bound a change by `action` would pass, if any (the change's own rule allowed it)."""
    if growth.history >= MAX_HISTORY:
        return Refusal.HISTORY_LIMIT
    if action in (Action.EDIT, Action.EDIT_ITEMS) and growth.edits >= MAX_EDITS:
        return Refusal.EDIT_LIMIT
    if action == Action.SPLIT and growth.splits >= MAX_SPLITS:
        return Refusal.SPLIT_LIMIT
    return None


def cancellation_option(state: State, growth: Growth = NEW_ORDER_GROWTH) -> tuple[CancellationOption, Refusal | None]:
    """What the portal's one "Cancel Order" button does now, read off the same table as the API.

    Greyed out, its reason is the refusal of a cancel, or else the refusal of a
    request (a cancelled order: cancelling again is "200, unchanged", requesting is refused),
    or the bound the change would pass.
    """
    option, refused = _cancellation_option(state)
    action = {CancellationOption.CANCEL: Action.CANCEL, CancellationOption.REQUEST: Action.REQUEST_CANCELLATION}
    passed = bound(action[option], growth) if option in action else None
    return (CancellationOption.NONE, passed) if passed else (option, refused)


@cache
def _cancellation_option(state: State) -> tuple[CancellationOption, Refusal | None]:
    cancel, request = decide(state, Action.CANCEL), decide(state, Action.REQUEST_CANCELLATION)
    if isinstance(cancel, Transition):
        return CancellationOption.CANCEL, None
    if isinstance(request, Transition):
        return CancellationOption.REQUEST, None
    refused = cancel if isinstance(cancel, Refusal) else request
    return CancellationOption.NONE, refused if isinstance(refused, Refusal) else None


def editing_option(state: State, growth: Growth = NEW_ORDER_GROWTH) -> tuple[EditingOption, Refusal | None]:
    """What the portal's Edit button does now, read off the same table as PATCH /orders/{order_id}."""
    edit = decide(state, Action.EDIT)
    if isinstance(edit, Transition):
        passed = bound(Action.EDIT, growth)
        return (EditingOption.NONE, passed) if passed else (EditingOption.EDIT, None)
    return EditingOption.NONE, edit if isinstance(edit, Refusal) else None


# -- many orders at once (docs/api.md §13) ---------------------------------------------------------


class BulkAction(StrEnum):
    """What a bulk call did to one order (or, in a dry run, would do): the result's `action`."""

    CANCELLED = "CANCELLED"
    CANCELLATION_REQUESTED = "CANCELLATION_REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    UNCHANGED = "UNCHANGED"
    REFUSED = "REFUSED"
    NOT_FOUND = "NOT_FOUND"
    # The order's command could not be completed inside the call's time (or DynamoDB kept throttling):
    # its problem is a 503; sending the order again is safe, since every command is idempotent.
    NOT_DONE = "NOT_DONE"


_BULK_ACTION_OF_EVENT = {
    Event.ORDER_CANCELLED: BulkAction.CANCELLED,
    Event.CANCELLATION_REQUESTED: BulkAction.CANCELLATION_REQUESTED,
    Event.CANCELLATION_APPROVED: BulkAction.APPROVED,
    Event.CANCELLATION_REJECTED: BulkAction.REJECTED,
}


def bulk_action(outcome: Outcome) -> BulkAction:
    """A command's outcome as a bulk result's `action`."""
    if isinstance(outcome, Refusal):
        return BulkAction.REFUSED
    if isinstance(outcome, Unchanged):
        return BulkAction.UNCHANGED
    return _BULK_ACTION_OF_EVENT[outcome.event]


def bulk_cancel_command(state: State, request_in_warehouse: bool) -> Action:
    """The single command a bulk cancellation sends for an order in `state`, read off the rules table.

    The cancel, unless the seller asked for requests (`if_in_warehouse: REQUEST`) and a request does
    what the cancel cannot: the cancel is refused and the request is not (an order in the warehouse
    without a request: a new request; with a pending one: "202, unchanged", so that a repeated bulk
    call is UNCHANGED). Everywhere else the cancel's own answer stands: a cancel at once (any state the
    table cancels directly), "200, unchanged" for a cancelled order, or its 409.
    """
    if request_in_warehouse:
        cancel, request = decide(state, Action.CANCEL), decide(state, Action.REQUEST_CANCELLATION)
        if isinstance(cancel, Refusal) and not isinstance(request, Refusal):
            return Action.REQUEST_CANCELLATION
    return Action.CANCEL


def planned_outcome(state: State, action: Action, growth: Growth) -> Outcome:
    """What `action` would do to an order in `state` that has grown so far: the rules, then the bounds."""
    outcome = decide(state, action)
    if isinstance(outcome, Transition):
        return bound(action, growth) or outcome
    return outcome


# -- tracking a despatched order (docs/api.md §12) ---------------------------------------------------


def tracking_refusal(state: State) -> Refusal | None:
    """Whether the courier's events may join an order in `state`: a despatched one only. DESPATCHED is
    final in the lifecycle (nothing cancels or moves it), so an order seen despatched stays so."""
    if state.status == OrderStatus.DESPATCHED:
        return None
    return Refusal.ORDER_CANCELLED if state.status == OrderStatus.CANCELLED else Refusal.ORDER_NOT_DESPATCHED


def splitting_option(
    state: State, growth: Growth = NEW_ORDER_GROWTH, in_stock: bool = True
) -> tuple[SplittingOption, Refusal | None]:
    """What the portal's Split order button does now, read off the same table as POST /orders/{id}/split.

    `in_stock`: whether some line is not wholly backordered (`split_lines` has something to ship).
    """
    split = decide(state, Action.SPLIT)
    if not isinstance(split, Transition):
        return SplittingOption.NONE, split if isinstance(split, Refusal) else None
    if not in_stock:
        return SplittingOption.NONE, Refusal.NOTHING_IN_STOCK
    passed = bound(Action.SPLIT, growth)
    return (SplittingOption.NONE, passed) if passed else (SplittingOption.SPLIT, None)


# -- backorders and splits (docs/api.md §11) --------------------------------------------------------


def split_lines(
    items: Sequence[Mapping[str, Any]], backordered: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """An order's lines parted by its backorder: (what ships now, what waits, the backorder's lines
    renumbered for what waits). A line wholly backordered ships nothing; one not named ships whole."""
    short = {entry["line"]: entry["quantity"] for entry in backordered}
    ships: list[dict[str, Any]] = []
    waits: list[dict[str, Any]] = []
    for position, line in enumerate(items, start=1):
        waiting = min(short.get(position, 0), line["quantity"])
        if line["quantity"] > waiting:
            ships.append({"sku": line["sku"], "quantity": line["quantity"] - waiting})
        if waiting:
            waits.append({"sku": line["sku"], "quantity": waiting})
    renumbered = [{"line": n, **line} for n, line in enumerate(waits, start=1)]
    return ships, waits, renumbered


def has_stock(items: Sequence[Mapping[str, Any]], backordered: Sequence[Mapping[str, Any]] | None) -> bool:
    """Whether a split of this order would ship anything."""
    return bool(backordered) and bool(split_lines(items, backordered or [])[0])


def backorder_mismatches(
    items: Sequence[Mapping[str, Any]], backordered: Sequence[Mapping[str, Any]]
) -> list[tuple[int, str]]:
    """Each backordered line the order does not hold (its index in `backordered`, and why)."""
    found = []
    for index, entry in enumerate(backordered):
        position = entry["line"]
        line = items[position - 1] if position <= len(items) else None
        if line is None:
            found.append((index, f"the order has {len(items)} line(s); there is no line {position}"))
        elif line["sku"] != entry["sku"]:
            found.append((index, f"line {position} holds {line['sku']}, not {entry['sku']}"))
        elif line["quantity"] < entry["quantity"]:
            held = f"{line['quantity']} of {line['sku']}"
            found.append((index, f"line {position} holds {held}, fewer than {entry['quantity']}"))
    return found
