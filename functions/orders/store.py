"""The orders table: one conditional DynamoDB write per command, refusals read off the old item.

A command's write is conditioned on the set of states in which the rules table (domain.py)
gives that very transition, and on the caller owning the order. When the condition fails,
DynamoDB hands back the item as it stood (`ReturnValuesOnConditionCheckFailure=ALL_OLD`)
and the same table says what to answer: 404, the 409 of the state that won, "200,
unchanged", or (only for a despatch that meets a pending request) the other write.
AWS errors become domain errors here and nowhere else. The item's layout is orders.item's.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orders import domain, item
from orders.domain import (
    SYSTEM,
    Action,
    Caller,
    Details,
    Event,
    OrderStatus,
    Outcome,
    Refusal,
    RequestStatus,
    Seller,
    State,
    Transition,
    Unchanged,
)
from orders.dynamodb import (
    TIMESTAMP,
    StoreUnavailable,
    Table,
    call,
    decode_page_token,
    encode_page_token,
    error_code,
    from_item,
    from_items,
    now,
    refused_item,
    seconds_after,
    to_item,
)
from orders.item import ListedOrder, OrderItem
from orders.settings import settings
from orders.transactions import Cancelled, transact_write

if TYPE_CHECKING:
    pass

SELLER_INDEX = "seller-orders"  # a seller's orders, newest first
STATUS_INDEX = "seller-orders-by-status"  # a seller's orders of one status, newest first
QUEUE_INDEX = "pending-requests"  # pending requests, most urgent first
ESCALATION_INDEX = "escalation-due"  # pending requests not yet escalated (keys only)
# A page is one Query; a second only when DynamoDB's 1 MB limit cut the first short (docs/api.md §10).
MAX_REQUESTS_PER_PAGE = 2
# A split's transaction is made again from the item a refusal hands back only while the order may still
# be split (another's change came first); past this many, 503 with Retry-After.
MAX_SPLIT_WRITES = 3
ORDER_ID = re.compile(r"ord_[a-z2-7]{26}", re.ASCII)
# What a listing's and the queue's page tokens hold: the last order's position in its index.
LISTING_POSITION = {"order_id": ORDER_ID, "created_at": TIMESTAMP}
QUEUE_POSITION = {"queue_due": re.compile(rf"{TIMESTAMP.pattern}#{ORDER_ID.pattern}", re.ASCII)}


class OrderNotFound(Exception):
    def __init__(self, order_id: str):
        super().__init__(f"Order {order_id} not found")
        self.order_id = order_id


class RefusalError(Exception):
    """The order's state forbids the command (the rules answered a `Refusal`); `order` is the item as it stood."""

    def __init__(self, action: Action, refusal: Refusal, order: OrderItem):
        super().__init__(refusal)
        self.action = action
        self.refusal = refusal
        self.order = order


class PreconditionFailed(Exception):
    """If-Match named another version than the order's; `order` is the item as it stood."""

    def __init__(self, order: OrderItem):
        super().__init__(order[item.VERSION])
        self.order = order


class BackorderLinesRefused(Exception):
    """A backorder names lines the order does not hold: (index in backordered_items, why) for each."""

    def __init__(self, mismatches: list[tuple[int, str]], order: OrderItem):
        super().__init__("; ".join(why for _, why in mismatches))
        self.mismatches = mismatches
        self.order = order


class ReferenceTaken(Exception):
    """The reference a split would give its new order is one the seller already used for another order."""

    def __init__(self, original: OrderItem, new: OrderItem, taken: OrderItem | None):
        super().__init__(new["reference"])
        self.original = original
        self.reference = new["reference"]
        self.taken_by = taken[item.KEY] if taken is not None else new[item.KEY]


@dataclass(frozen=True)
class SplitDone:
    """A split carried out: the order split off (what ships now) and the original (what waits)."""

    in_stock: OrderItem
    backorder: OrderItem


@dataclass(frozen=True)
class Applied:
    """A command carried out: the item as it now stands, what the rules made of it, and its state."""

    order: OrderItem
    outcome: Outcome
    state: State
    split_off: OrderItem | None = None  # a split's new order


@dataclass(frozen=True)
class QueuePage:
    """A page of the warehouse's queue: the orders, and the token of the next page (None at the end)."""

    orders: list[ListedOrder]
    next_token: str | None


@dataclass(frozen=True)
class OverduePage:
    """Order ids of pending, not yet escalated requests due by the sweep's time, and where to go on from."""

    order_ids: list[str]
    last_key: dict[str, Any] | None


NO_DETAILS = Details()

# docs/api.md §13: a BatchGetItem takes at most 100 keys; the keys DynamoDB leaves unprocessed (throttling,
# or its 16 MB response limit) are asked for again, after a jittered pause that doubles each time.
BATCH_GET_KEYS = 100
BATCH_GET_ATTEMPTS = 6
BATCH_GET_FIRST_PAUSE_SECONDS = 0.05


class OrderStore(Table):
    """The orders table (settings' TABLE_NAME)."""

    def _configured_name(self) -> str:
        return settings().table_name

    # -- reads ---------------------------------------------------------------------------

    def get(self, order_id: str, caller: Caller) -> OrderItem:
        response = call(self.client.get_item, TableName=self.table_name, Key=_key(order_id), ConsistentRead=True)
        found = _order(response.get("Item"))
        if found is None or not item.visible_to(found, caller):
            raise OrderNotFound(order_id)
        return found

    def get_many(
        self,
        order_ids: Sequence[str],
        *,
        deadline: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[str, OrderItem]:
        """The orders of `order_ids` that exist, by id, whoever's they are: one BatchGetItem per 100 ids.

        Strongly consistent, as the single commands' reads are. Unprocessed keys are asked for again
        (at most BATCH_GET_ATTEMPTS requests per 100 ids, with jittered, doubling pauses), but never
        past `deadline` (time.monotonic()): keys still unprocessed then are StoreUnavailable (a 503).
        The caller filters what it may see (item.visible_to).
        """
        found: dict[str, OrderItem] = {}
        for start in range(0, len(order_ids), BATCH_GET_KEYS):
            keys: list[Any] = [_key(order_id) for order_id in order_ids[start : start + BATCH_GET_KEYS]]
            for attempt in range(BATCH_GET_ATTEMPTS):
                request = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
                response: Mapping[str, Any] = call(self.client.batch_get_item, RequestItems=request)
                for typed in response.get("Responses", {}).get(self.table_name, []):
                    order = _order(typed)
                    assert order is not None
                    found[order[item.KEY]] = order
                keys = response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
                if not keys:
                    break
                pause = random.uniform(0, BATCH_GET_FIRST_PAUSE_SECONDS * 2**attempt)
                if attempt + 1 == BATCH_GET_ATTEMPTS or (deadline is not None and time.monotonic() + pause > deadline):
                    raise StoreUnavailable(f"{len(keys)} keys still unprocessed after {attempt + 1} BatchGetItem")
                sleep(pause)
        return found

    def list_for_seller(
        self, seller_id: str, *, status: str | None, limit: int, page_token: str | None
    ) -> tuple[list[ListedOrder], str | None]:
        """A page of a seller's orders, newest first, and the token of the next page (None at the end).

        One Query, with no filter, on the index keyed for the listing: seller-orders, or
        seller-orders-by-status for `?status=`; both project the order but its history (item.LISTED).
        It asks for one order more than the page holds, to know whether another page exists; a second
        Query is made only when DynamoDB's 1 MB response limit cut the first short.
        """
        query = _listing_query(seller_id, status)
        if page_token:
            position = decode_page_token(page_token, LISTING_POSITION)
            query["ExclusiveStartKey"] = to_item(_listing_start(seller_id, status, position))
        found: list[ListedOrder] = []
        for _ in range(MAX_REQUESTS_PER_PAGE):
            page = call(
                self.client.query,
                TableName=self.table_name,
                ScanIndexForward=False,
                Limit=limit + 1 - len(found),
                **query,
            )
            found.extend(_listed(page["Items"]))
            if len(found) > limit or "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        orders = found[:limit]
        more = len(found) > limit or "LastEvaluatedKey" in page
        if not (more and orders):
            return orders, None
        last = orders[-1]
        return orders, encode_page_token({"order_id": last["order_id"], "created_at": last["created_at"]})

    def pending_requests(
        self, *, overdue: bool | None, limit: int, page_token: str | None, at: str | None = None
    ) -> QueuePage:
        """A page of the warehouse's queue (docs/api.md §6): one Query on the sparse `pending-requests` index.

        `overdue` is a key condition on the due time (passed by `at`, or not). The page token is the
        last order's position, and a page goes on after it through the key condition alone where
        time has moved the position out of the range asked for (a not-yet-overdue page whose last
        order is overdue now), since DynamoDB refuses a start key outside its key condition.
        Whatever 1 MB of index data holds is a page: it may be short, never a second request.
        """
        bound = item.due_by(at or now())
        position = decode_page_token(page_token, QUEUE_POSITION)["queue_due"] if page_token else None
        condition, values = "#queue = :queue", {":queue": {"S": item.QUEUE_PARTITION}}
        start = position
        if overdue is True:
            if position is not None and position >= bound:
                return QueuePage([], None)  # a token from a clock ahead of this one: nothing is left
            condition += " AND queue_due < :bound"
            values[":bound"] = {"S": bound}
        elif overdue is False:
            if position is not None and position < bound:
                start = None  # the rest of the not-overdue part starts at the bound
            condition += " AND queue_due > :bound"
            values[":bound"] = {"S": bound}
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": QUEUE_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#queue": item.QUEUE},
            "ExpressionAttributeValues": values,
            "Limit": limit + 1,
        }
        if start is not None:
            order_id = start.rsplit("#", 1)[1]
            query["ExclusiveStartKey"] = to_item(
                {"order_id": order_id, item.QUEUE: item.QUEUE_PARTITION, item.QUEUE_DUE: start}
            )
        page = call(self.client.query, **query)
        found = _listed(page["Items"])
        orders = found[:limit]
        more = len(found) > limit or "LastEvaluatedKey" in page
        token = encode_page_token({"queue_due": orders[-1][item.QUEUE_DUE]}) if more and orders else None
        return QueuePage(orders, token)

    def due_for_escalation(self, at: str, *, limit: int, start_key: dict[str, Any] | None = None) -> OverduePage:
        """One Query on the `escalation-due` index: pending requests due by `at` that nobody escalated yet."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": ESCALATION_INDEX,
            "KeyConditionExpression": "#queue = :queue AND escalation_due < :bound",
            "ExpressionAttributeNames": {"#queue": item.QUEUE},
            "ExpressionAttributeValues": {
                ":queue": {"S": item.QUEUE_PARTITION},
                ":bound": {"S": item.due_by(at)},
            },
            "Limit": limit,
        }
        if start_key:
            query["ExclusiveStartKey"] = start_key
        page = call(self.client.query, **query)
        return OverduePage([found["order_id"]["S"] for found in page["Items"]], page.get("LastEvaluatedKey"))

    def count_overdue(self, at: str) -> int:
        """How many pending requests are due by `at`, escalated or not: COUNT queries of `pending-requests`.

        One request per 1 MB of the overdue part of the index, for the sweep's metric only.
        """
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": QUEUE_INDEX,
            "KeyConditionExpression": "#queue = :queue AND queue_due < :bound",
            "ExpressionAttributeNames": {"#queue": item.QUEUE},
            "ExpressionAttributeValues": {":queue": {"S": item.QUEUE_PARTITION}, ":bound": {"S": item.due_by(at)}},
            "Select": "COUNT",
        }
        total = 0
        while True:
            page = call(self.client.query, **query)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- writes --------------------------------------------------------------------------

    def create(self, seller_id: str, draft: dict[str, Any]) -> tuple[OrderItem, bool]:
        """Store a new order; if the seller already has one with this reference, return that instead."""
        order = item.new_item(seller_id, draft, now())
        try:
            call(
                self.client.put_item,
                TableName=self.table_name,
                Item=to_item(order),
                ConditionExpression="attribute_not_exists(order_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            existing = _refused_order(error)
            if existing is None:  # unreachable: the condition fails only on an item that exists
                raise
            return existing, False
        return order, True

    def apply(self, order_id: str, action: Action, caller: Caller, details: Details = NO_DETAILS) -> Applied:
        """Carry out `action` with the one conditional write the rules allow from the order's state."""
        if action in (Action.EDIT, Action.EDIT_ITEMS) and not details.changes:
            raise ValueError("an edit names the fields it replaces")
        if action == Action.SPLIT:
            return self._split_applied(order_id, caller, details)
        candidates = domain.transitions(action)
        transition = next(iter(candidates))
        legacy_seller: str | None = None
        # Each retry follows a state change someone else made, and orders only move forward.
        for _ in domain.ALL_STATES:
            write = _TransitionWrite(self.table_name, order_id, caller, details, legacy_seller)
            try:
                response = call(self.client.update_item, **write.of(transition, candidates[transition]))
            except ClientError as error:
                current = _refused_order(error)
            else:
                order = _order(response["Attributes"])
                assert order is not None  # ReturnValues=ALL_NEW: the item as written
                return Applied(order, transition, item.state_of(order))
            lacks = transition.status is not None and current is not None and _lacks_key(current, transition)
            if transition.status and current is not None and lacks == (legacy_seller is None):
                # The move's form did not fit the item: an order written before its listing keys existed, or
                # before its new status did, as ON_BACKORDER (this write adds them, once), or one that another
                # move gave them meanwhile (the usual form again).
                legacy_seller = current[item.SELLER] if lacks else None
                if item.visible_to(current, caller) and domain.decide(item.state_of(current), action) == transition:
                    continue
            settled = _settle_refused(current, order_id, action, transition, caller, details)
            if isinstance(settled, Applied):
                return settled
            transition = settled
        raise RuntimeError(f"{action} on {order_id} did not settle")  # unreachable: states form a DAG

    def split(self, order_id: str, caller: Seller, expected_versions: frozenset[int] | None = None) -> SplitDone:
        """Split what is in stock off an ON_BACKORDER order (docs/api.md §11): one read, one transaction.

        The new order's items, recipient and courier are the original's, so the original is read first
        (a consistent GetItem). Then one `TransactWriteItems`: the original, conditioned on its seller,
        status and the version read (which If-Match was checked against), keeps only what waits; the new
        order, conditioned on not existing, is put under the id its reference derives (`<reference>-2`
        for the first split). A split that raced another change is refused in the transaction, which
        hands back the original as it stood: the rules answer from it, or, when it may still be split
        (someone else's edit came first), the split is made again from it, without another read.
        """
        response = call(self.client.get_item, TableName=self.table_name, Key=_key(order_id), ConsistentRead=True)
        current = _order(response.get("Item"))
        for _ in range(MAX_SPLIT_WRITES):
            split = _Split(self.table_name, _splittable(current, order_id, caller, expected_versions), caller)
            try:
                transact_write(self.client, split.items())
            except Cancelled as cancelled:
                if cancelled.condition_failed(0):
                    current = _read_order(cancelled.item(0))
                    continue
                if cancelled.condition_failed(1):
                    taken = _read_order(cancelled.item(1))
                    raise ReferenceTaken(split.original, split.new, taken) from cancelled
                raise
            return SplitDone(in_stock=split.new, backorder=split.after())
        raise StoreUnavailable(f"split of {order_id} raced {MAX_SPLIT_WRITES} other changes")

    def _split_applied(self, order_id: str, caller: Caller, details: Details) -> Applied:
        """A split as any other command's outcome: the original as it now stands (`split_off`: the new order)."""
        if not isinstance(caller, Seller):
            raise ValueError("only a seller splits an order")
        done = self.split(order_id, caller, details.expected_versions)
        transition = next(iter(domain.transitions(Action.SPLIT)))
        return Applied(done.backorder, transition, item.state_of(done.backorder), split_off=done.in_stock)

    def escalate(self, order_id: str, at: str | None = None) -> bool:
        """Mark a pending request overdue, with one conditional write; False when it is not to be escalated.

        The condition is the rule of docs/api.md §6: the request is still REQUESTED, due by now, and
        not yet escalated (its `escalation_due` key is there). Two sweeps racing, a retried
        invocation or a decision that came first: the write fails, and nothing changes.
        """
        at = at or now()
        entry = item.history_entry(at, Event.CANCELLATION_REQUEST_OVERDUE, SYSTEM, None)
        try:
            call(
                self.client.update_item,
                TableName=self.table_name,
                Key=_key(order_id),
                UpdateExpression=(
                    "SET #request.escalated_at = :now, version = version + :one, updated_at = :now, "
                    "#history = list_append(#history, :entry) REMOVE escalation_due"
                ),
                ConditionExpression=(
                    "attribute_exists(escalation_due) AND #request.#request_status = :requested "
                    "AND #request.due_at <= :now AND size(#history) < :max_history"
                ),
                ExpressionAttributeNames={"#request": item.REQUEST, "#request_status": "status", "#history": "history"},
                ExpressionAttributeValues=to_item(
                    {
                        ":now": at,
                        ":one": 1,
                        ":entry": [entry],
                        ":requested": RequestStatus.REQUESTED.value,
                        ":max_history": domain.MAX_HISTORY,
                    }
                ),
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True


def _settle_refused(
    current: OrderItem | None,
    order_id: str,
    action: Action,
    transition: Transition,
    caller: Caller,
    details: Details,
) -> Applied | Transition:
    """What a refused write means, from the item as it stood: an answer, or the next transition to try."""
    if current is None or not item.visible_to(current, caller):
        raise OrderNotFound(order_id)
    # If-Match is checked before the rules: the caller's copy of the order is out of date.
    if details.expected_versions is not None and current[item.VERSION] not in details.expected_versions:
        raise PreconditionFailed(current)
    state = item.state_of(current)
    outcome = domain.decide(state, action)
    if isinstance(outcome, Refusal):
        raise RefusalError(action, outcome, current)
    if isinstance(outcome, Unchanged):
        return Applied(current, Unchanged(), state)
    # A change the rules allow, refused by a bound of docs/api.md §15 in the write's condition (unless it would
    # change nothing: a repeated edit is "unchanged", whatever the bounds, as every repeated command is).
    passed = domain.bound(action, item.growth_of(current))
    if passed is not None and not _changes_nothing(current, details):
        raise RefusalError(action, passed, current)
    # A backorder naming lines the order does not hold (an edit came first): 400 naming them.
    if outcome.marks_backorder:
        mismatches = domain.backorder_mismatches(current["items"], list(details.backordered_items or ()))
        if mismatches:
            raise BackorderLinesRefused(mismatches, current)
    # The same transition refused from a state it starts from: only "some field differs" failed.
    if outcome == transition:
        return Applied(current, Unchanged(), state)
    return outcome


def _changes_nothing(current: OrderItem, details: Details) -> bool:
    """Whether an edit's fields already hold what it sends (compared by value, as the write's condition does)."""
    fields: Mapping[str, Any] = current
    return bool(details.changes) and all(fields.get(name) == value for name, value in (details.changes or {}).items())


class _TransitionWrite:
    """The one UpdateItem of a transition: the update that makes it and the condition that is its rule.

    Built in parts, each with its names and values: the change every write makes (version, time,
    history), an edit's fields, a new request, a decision, and the condition: the states the rules
    allow it from, "some field differs" for an edit, If-Match's versions, who may touch the order, and
    the bounds of docs/api.md §15 (the history's length, an edit's count).
    """

    def __init__(
        self, table_name: str, order_id: str, caller: Caller, details: Details, legacy_seller: str | None = None
    ):
        self.legacy_seller = legacy_seller  # an order without status_keys, of this seller: written whole
        self.table_name = table_name
        self.order_id = order_id
        self.caller = caller
        self.details = details
        self.at = now()
        self.names: dict[str, str] = {
            "#status": "status",
            "#request": item.REQUEST,
            "#request_status": "status",
            "#history": item.HISTORY,
            "#edits": item.EDITS,
            "#seller_status": item.SELLER_STATUS,
            "#status_keys": item.STATUS_KEYS,
        }
        self.values: dict[str, Any] = {":one": 1, ":now": self.at, ":max_history": domain.MAX_HISTORY}
        self.updates: list[str] = []
        self.removals: list[str] = []
        self.conditions: list[str] = []

    def of(self, transition: Transition, from_states: tuple[State, ...]) -> dict[str, Any]:
        self._change(transition)
        self._edit()
        if transition.status:
            self._move(transition)
        if transition.request == RequestStatus.REQUESTED:
            self._request()
        elif transition.request:
            self._decision(transition)
        self.conditions.append(_states_condition(from_states, self.values))
        self._if_match()
        self._owner()
        # Last, where the order is known to exist (moto evaluates size() of a missing item as an error).
        self.conditions.append("size(#history) < :max_history")
        return self._arguments()

    def _change(self, transition: Transition) -> None:
        """What every change writes: one version more, the time, one history entry."""
        changed = sorted(self.details.changes or {}) or None
        entry = item.history_entry(self.at, transition.event, self.caller, transition.status, changed)
        self.values[":entry"] = [entry]
        self.updates += ["version = version + :one", "updated_at = :now", "#history = list_append(#history, :entry)"]

    def _edit(self) -> None:
        """An edit's fields, each replaced whole, and the condition that one of them differs."""
        changes = self.details.changes or {}
        for field, value in changes.items():
            self.names[f"#edit_{field}"] = field
            self.values[f":edit_{field}"] = value
            self.updates.append(f"#edit_{field} = :edit_{field}")
        if changes:
            # An edit that changes nothing writes nothing (DynamoDB compares maps and lists by value).
            self.conditions.append("(" + " OR ".join(f"#edit_{field} <> :edit_{field}" for field in changes) + ")")
            # And an order is edited at most MAX_EDITS times.
            self.updates.append("#edits = if_not_exists(#edits, :zero) + :one")
            self.conditions.append("(attribute_not_exists(#edits) OR #edits < :max_edits)")
            self.values[":zero"] = 0
            self.values[":max_edits"] = domain.MAX_EDITS

    def _move(self, transition: Transition) -> None:
        """A status move, with the tracking number that came with it."""
        assert transition.status is not None
        self.updates.append("#status = :new_status")
        self.values[":new_status"] = transition.status.value
        self.names["#moved_to"] = transition.status.value
        if self.legacy_seller is None:
            # Its key in the listing by status: copied from those the order was created with.
            self.updates.append("#seller_status = #status_keys.#moved_to")
            self.conditions.append("attribute_exists(#status_keys.#moved_to)")
        else:
            keys = {status.value: item.seller_status(self.legacy_seller, status) for status in OrderStatus}
            self.updates += ["#seller_status = :seller_status", "#status_keys = :status_keys"]
            self.values[":seller_status"] = keys[transition.status.value]
            self.values[":status_keys"] = keys
            self.conditions.append("attribute_not_exists(#status_keys.#moved_to)")
        self._backorder(transition)
        if self.details.tracking_number:
            self.updates.append("tracking_number = :tracking_number")
            self.values[":tracking_number"] = self.details.tracking_number

    def _backorder(self, transition: Transition) -> None:
        """A backorder marked (its lines checked in the condition), or cleared by the move (docs/api.md §11)."""
        self.names["#backorder"] = item.BACKORDER
        if transition.clears_backorder:
            self.removals.append("#backorder")
        if not transition.marks_backorder:
            return
        backordered = list(self.details.backordered_items or ())
        self.names.update({"#items": "items", "#sku": "sku", "#quantity": "quantity", "#expected_at": "expected_at"})
        self.updates.append("#backorder = :backorder")
        self.values[":backorder"] = item.backorder_record(backordered, self.at, self.details.expected_at)
        self.values[":bo_items"] = self.values[":backorder"]["items"]
        self.values[":bo_expected_at"] = self.details.expected_at
        self.values[":on_backorder"] = OrderStatus.ON_BACKORDER.value
        # Each named line holds that sku, with at least that quantity: an edit racing the backorder has one winner.
        for n, entry in enumerate(backordered):
            index = entry["line"] - 1
            self.values[f":bo_sku_{n}"] = entry["sku"]
            self.values[f":bo_quantity_{n}"] = entry["quantity"]
            line = f"#items[{index}]"
            self.conditions.append(f"{line}.#sku = :bo_sku_{n} AND {line}.#quantity >= :bo_quantity_{n}")
        # And something differs: the same backorder marked again is "200, unchanged".
        self.conditions.append(
            "(#status <> :on_backorder OR #backorder.#items <> :bo_items OR #backorder.#expected_at <> :bo_expected_at)"
        )

    def _request(self) -> None:
        """A new cancellation request, due after the time limit, and onto the warehouse's queue."""
        due_at = seconds_after(self.at, settings().cancellation_request_sla_seconds)
        self.updates.append("#request = :request")
        self.values[":request"] = item.new_request(self.details, self.at, due_at)
        for name, value in item.queue_keys(due_at, self.order_id).items():
            self.names[f"#{name}"] = name
            self.values[f":{name}"] = value
            self.updates.append(f"#{name} = :{name}")

    def _decision(self, transition: Transition) -> None:
        """A decision (or the despatch's rejection): the request's outcome, and off the queue in the same write."""
        assert transition.request is not None
        for name in item.QUEUE_ATTRIBUTES:
            self.names[f"#{name}"] = name
            self.removals.append(f"#{name}")
        self.updates += [
            "#request.#request_status = :new_request_status",
            "#request.decision_reason_code = :decision_reason_code",
            "#request.decision_note = :decision_note",
            "#request.decided_at = :now",
        ]
        self.values[":new_request_status"] = transition.request.value
        self.values[":decision_reason_code"] = transition.decision_reason or self.details.reason_code
        self.values[":decision_note"] = None if transition.decision_reason else self.details.note

    def _if_match(self) -> None:
        if self.details.expected_versions is None:
            return
        versions = sorted(self.details.expected_versions) or [-1]  # only weak tags: no version can match
        for index, version in enumerate(versions):
            self.values[f":if_match_{index}"] = version
        self.conditions.append("version IN ({})".format(", ".join(f":if_match_{i}" for i in range(len(versions)))))

    def _owner(self) -> None:
        """A seller touches only their own orders; anyone else only an order that exists."""
        if isinstance(self.caller, Seller):
            self.conditions.append("seller_id = :seller")
            self.values[":seller"] = self.caller.seller_id
        else:
            self.conditions.append("attribute_exists(order_id)")

    def _arguments(self) -> dict[str, Any]:
        update = "SET " + ", ".join(self.updates) + (" REMOVE " + ", ".join(self.removals) if self.removals else "")
        condition = " AND ".join(self.conditions)
        return {
            "TableName": self.table_name,
            "Key": _key(self.order_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            # DynamoDB refuses names an expression does not use.
            "ExpressionAttributeNames": {
                alias: name for alias, name in self.names.items() if re.search(rf"{alias}\b", f"{update} {condition}")
            },
            "ExpressionAttributeValues": to_item(self.values),
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }


def _splittable(
    current: OrderItem | None, order_id: str, caller: Seller, expected_versions: frozenset[int] | None
) -> OrderItem:
    """The order, if the rules let `caller` split it as it stands; else the refusal they give."""
    if current is None or not item.visible_to(current, caller):
        raise OrderNotFound(order_id)
    if expected_versions is not None and current[item.VERSION] not in expected_versions:
        raise PreconditionFailed(current)
    outcome = domain.decide(item.state_of(current), Action.SPLIT)
    if isinstance(outcome, Refusal):
        raise RefusalError(Action.SPLIT, outcome, current)
    backorder = item.backorder_of(current)
    if not domain.has_stock(current["items"], list(backorder["items"]) if backorder else None):
        raise RefusalError(Action.SPLIT, Refusal.NOTHING_IN_STOCK, current)
    passed = domain.bound(Action.SPLIT, item.growth_of(current))
    if passed is not None:
        raise RefusalError(Action.SPLIT, passed, current)
    return current


class _Split:
    """The transaction of one split: the original as read, what it becomes, and the order split off it."""

    def __init__(self, table_name: str, original: OrderItem, caller: Seller):
        self.table_name = table_name
        self.original = original
        self.caller = caller
        self.at = now()
        backorder = item.backorder_of(original)
        assert backorder is not None  # _splittable: an ON_BACKORDER order with something in stock
        ships, self.waits, self.backordered = domain.split_lines(original["items"], list(backorder["items"]))
        self.new = item.new_split_item(original, ships, self.at)
        self.entry = item.history_entry(self.at, Event.ORDER_SPLIT, caller, None)
        self.entry[item.SPLIT_INTO] = self.new[item.KEY]

    def items(self) -> list[dict[str, Any]]:
        update = {
            "TableName": self.table_name,
            "Key": _key(self.original[item.KEY]),
            "UpdateExpression": (
                "SET #items = :waits, #backorder.#items = :backordered, "
                "#split_into = list_append(if_not_exists(#split_into, :none), :new_id), "
                "version = version + :one, updated_at = :now, #history = list_append(#history, :entry)"
            ),
            # The version read pins everything the split was computed from, and If-Match was checked against it.
            "ConditionExpression": (
                "seller_id = :seller AND #status = :on_backorder AND version = :version "
                "AND size(#history) < :max_history"
            ),
            "ExpressionAttributeNames": {
                "#items": "items",
                "#backorder": item.BACKORDER,
                "#split_into": item.SPLIT_INTO,
                "#history": item.HISTORY,
                "#status": item.STATUS,
            },
            "ExpressionAttributeValues": to_item(
                {
                    ":waits": self.waits,
                    ":backordered": self.backordered,
                    ":none": [],
                    ":new_id": [self.new[item.KEY]],
                    ":one": 1,
                    ":now": self.at,
                    ":entry": [self.entry],
                    ":seller": self.caller.seller_id,
                    ":on_backorder": OrderStatus.ON_BACKORDER.value,
                    ":version": self.original[item.VERSION],
                    ":max_history": domain.MAX_HISTORY,
                }
            ),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        put = {
            "TableName": self.table_name,
            "Item": to_item(self.new),
            "ConditionExpression": "attribute_not_exists(order_id)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        return [{"Update": update}, {"Put": put}]

    def after(self) -> OrderItem:
        """The original as the transaction left it (a transaction returns no item)."""
        backorder = item.backorder_of(self.original)
        assert backorder is not None
        return item.read(
            {
                **self.original,
                "items": self.waits,
                item.BACKORDER: {**backorder, "items": self.backordered},
                item.SPLIT_INTO: [*self.original.get(item.SPLIT_INTO, []), self.new[item.KEY]],
                item.VERSION: self.original[item.VERSION] + 1,
                "updated_at": self.at,
                item.HISTORY: [*self.original[item.HISTORY], self.entry],
            }
        )


def _read_order(plain: Mapping[str, Any] | None) -> OrderItem | None:
    return None if plain is None else item.read(plain)


def _lacks_key(current: OrderItem, transition: Transition) -> bool:
    """Whether the order has no listing key for the status the transition moves it to."""
    assert transition.status is not None
    return transition.status.value not in current.get(item.STATUS_KEYS, {})


def _states_condition(states: tuple[State, ...], values: dict[str, Any]) -> str:
    """`(the order is in one of these states)` as a condition expression over status and request."""
    statuses_by_request: dict[RequestStatus | None, list[str]] = {}
    for state in states:
        statuses_by_request.setdefault(state.request, []).append(state.status.value)
    clauses = []
    for request, statuses in statuses_by_request.items():
        for status in statuses:
            values[f":is_{status}"] = status
        in_status = "#status IN ({})".format(", ".join(f":is_{status}" for status in statuses))
        if request is None:
            clauses.append(f"attribute_not_exists(#request) AND {in_status}")
        else:
            values[f":request_is_{request}"] = request.value
            clauses.append(f"#request.#request_status = :request_is_{request} AND {in_status}")
    if len(clauses) == 1:
        return clauses[0]  # DynamoDB refuses redundant parentheses
    return "(" + " OR ".join(f"({clause})" for clause in clauses) + ")"


def _listing_query(seller_id: str, status: str | None) -> dict[str, Any]:
    """The key condition of a listing page: the seller's orders, or the seller's orders of one status."""
    if status:
        return {
            "IndexName": STATUS_INDEX,
            "KeyConditionExpression": "seller_status = :key",
            "ExpressionAttributeValues": {":key": {"S": item.seller_status(seller_id, status)}},
        }
    return {
        "IndexName": SELLER_INDEX,
        "KeyConditionExpression": "seller_id = :seller",
        "ExpressionAttributeValues": {":seller": {"S": seller_id}},
    }


def _listing_start(seller_id: str, status: str | None, position: dict[str, str]) -> dict[str, str]:
    """The index key to go on after, from a page token's position."""
    if status:
        return {
            "order_id": position["order_id"],
            "seller_status": item.seller_status(seller_id, status),
            "created_at": position["created_at"],
        }
    return {"order_id": position["order_id"], "seller_id": seller_id, "created_at": position["created_at"]}


def _order(typed: Mapping[str, Any] | None) -> OrderItem | None:
    """An item DynamoDB handed back as typed JSON, as an OrderItem; None stays None."""
    plain = from_item(typed)
    return None if plain is None else item.read(plain)


def _refused_order(error: ClientError) -> OrderItem | None:
    """The order a failed condition found (None: there was none); any other error goes on up."""
    plain = refused_item(error)
    return None if plain is None else item.read(plain)


def _listed(typed: list[dict[str, Any]]) -> list[ListedOrder]:
    return [item.read_listed(found) for found in from_items(typed)]


def _key(order_id: str) -> dict[str, Any]:
    return {"order_id": {"S": order_id}}
