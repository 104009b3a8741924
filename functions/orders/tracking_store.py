"""A despatched order's tracking (docs/api.md §12): its timeline in the tracking table, its courier status
on the order.

A batch of carrier events costs one read and at most one write request, whatever its size:

1. one `BatchGetItem` (strongly consistent) of the order and its timeline;
2. the rules on what was read (404, 409 `ORDER_NOT_DESPATCHED` / `ORDER_CANCELLED`) and the merge
   (orders.tracking): a batch whose every event is already held writes nothing and answers the order;
3. one `TransactWriteItems` of two items: the whole timeline, conditioned on the version read; and
   either the order's new `courier_status` (with `version + 1` and a `COURIER_STATUS_CHANGED` history
   entry, when the newest event's status is not the order's) or a condition check. Both conditions
   hold every rule: the order is DESPATCHED, its version is the one read, its history has room, and
   its courier status is not newer than the one written (a late event never moves it back).

A refused condition means another batch for this order committed in between: the store reads again
and merges again (at most `MAX_ATTEMPTS` in all, then 503), so two batches racing both end up in the
timeline and the courier status is the newest of both, whichever committed first.
The order is written only when its courier status changes, so a re-sent batch writes nothing, and the
stream (hence the event `COURIER_STATUS_CHANGED`) hears of each change once.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orders import domain, item, tracking
from orders.domain import WAREHOUSE, Caller, Event, OrderStatus, Refusal
from orders.dynamodb import StoreUnavailable, call, error_code, from_item, now, to_item
from orders.item import OrderItem, TrackingItem
from orders.settings import settings
from orders.store import OrderNotFound
from orders.tracking import EventRecord, Merged

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Tries of the read-merge-write, the first included: each retry follows a batch that committed meanwhile.
MAX_ATTEMPTS = 4
_RETRY_PAUSE_SECONDS = 0.02


class TrackingRefused(Exception):
    """The order's state forbids tracking events (`refusal`); `order` is the order as it stood."""

    def __init__(self, refusal: Refusal, order: OrderItem):
        super().__init__(refusal)
        self.refusal = refusal
        self.order = order


@dataclass(frozen=True)
class Tracked:
    """A batch carried out: the order and the timeline as they now stand, and what the batch did."""

    order: OrderItem
    timeline: TrackingItem
    merged: Merged
    status_changed: bool


class TrackingStore:
    """The orders table and the tracking table, as tracking uses them (settings' names unless given)."""

    def __init__(
        self,
        table_name: str | None = None,
        tracking_table_name: str | None = None,
        client: DynamoDBClient | None = None,
    ):
        self._table_name = table_name
        self._tracking_table_name = tracking_table_name
        self._client = client

    @property
    def table_name(self) -> str:
        return self._table_name or settings().table_name

    @property
    def tracking_table_name(self) -> str:
        return self._tracking_table_name or settings().tracking_table_name

    @property
    def client(self) -> DynamoDBClient:
        from orders.settings import dynamodb

        return self._client or dynamodb()

    # -- reads ---------------------------------------------------------------------------

    def read(self, order_id: str, caller: Caller) -> tuple[OrderItem, TrackingItem]:
        """The order and its timeline, in one strongly consistent BatchGetItem; 404 where the caller sees none."""
        key = {"order_id": {"S": order_id}}
        wanted: dict[str, Any] = {
            self.table_name: {"Keys": [key], "ConsistentRead": True},
            self.tracking_table_name: {"Keys": [key], "ConsistentRead": True},
        }
        found: dict[str, Any] = {}
        for _ in range(MAX_ATTEMPTS):
            response = call(self.client.batch_get_item, RequestItems=wanted)
            for table, items in response.get("Responses", {}).items():
                for typed in items:
                    found[table] = from_item(typed)
            wanted = response.get("UnprocessedKeys") or {}
            if not wanted:
                break
        else:
            raise StoreUnavailable(f"BatchGetItem left keys unprocessed {MAX_ATTEMPTS} times")
        order = found.get(self.table_name)
        if order is None or not item.visible_to(item.read(order), caller):
            raise OrderNotFound(order_id)
        return item.read(order), item.read_tracking(found.get(self.tracking_table_name), order_id)

    # -- the write -----------------------------------------------------------------------

    def add(self, order_id: str, batch: list[EventRecord]) -> Tracked:
        """Join `batch` to the order's timeline, and move its courier status if the newest event says so."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            order, timeline = self.read(order_id, WAREHOUSE)
            refusal = domain.tracking_refusal(item.state_of(order))
            if refusal is not None:
                raise TrackingRefused(refusal, order)
            merged = tracking.merge(timeline["events"], batch)
            if not merged.changed:
                return Tracked(order, timeline, merged, status_changed=False)
            write = _BatchWrite(self, order, timeline, merged)
            if write.moves and item.growth_of(order).history >= domain.MAX_HISTORY:
                raise TrackingRefused(Refusal.HISTORY_LIMIT, order)
            if self._commit(write.items()):
                return Tracked(write.new_order(), write.new_timeline, merged, write.moves)
            if attempt < MAX_ATTEMPTS:
                time.sleep(random.uniform(0, _RETRY_PAUSE_SECONDS * attempt))  # noqa: S311 - jitter, no secret
        raise StoreUnavailable(f"tracking of {order_id} still contended after {MAX_ATTEMPTS} tries")

    def _commit(self, items: list[dict[str, Any]]) -> bool:
        """The one TransactWriteItems; False when a condition failed or another transaction was in flight."""
        try:
            call(self.client.transact_write_items, TransactItems=items)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            return False
        return True


class _BatchWrite:
    """The two items of one batch's transaction: the timeline, and the order's change or its check."""

    def __init__(self, store: TrackingStore, order: OrderItem, timeline: TrackingItem, merged: Merged):
        self.store = store
        self.order = order
        self.timeline = timeline
        self.at = now()
        newest = merged.newest
        assert newest is not None  # the batch added an event
        self.newest = newest
        self.moves = tracking.status_changes(order.get(item.COURIER_STATUS), newest)
        self.new_timeline: TrackingItem = {
            "order_id": order[item.KEY],
            "version": timeline["version"] + 1,
            "events": merged.kept,
            "dropped": timeline["dropped"] + len(merged.dropped),
        }
        self.entry = item.history_entry(self.at, Event.COURIER_STATUS_CHANGED, WAREHOUSE, None)

    def items(self) -> list[dict[str, Any]]:
        return [self._timeline_put(), self._order_update() if self.moves else self._order_check()]

    def new_order(self) -> OrderItem:
        """The order as the transaction left it (its condition held the version read)."""
        if not self.moves:
            return self.order
        return item.read(
            {
                **self.order,
                item.COURIER_STATUS: tracking.courier_status(self.newest),
                item.VERSION: self.order[item.VERSION] + 1,
                "updated_at": self.at,
                item.HISTORY: [*self.order[item.HISTORY], self.entry],
            }
        )

    def _timeline_put(self) -> dict[str, Any]:
        read_version = self.timeline["version"]
        put: dict[str, Any] = {"TableName": self.store.tracking_table_name, "Item": to_item(self.new_timeline)}
        if read_version == 0:
            put["ConditionExpression"] = "attribute_not_exists(order_id)"
        else:
            put["ConditionExpression"] = "version = :read"
            put["ExpressionAttributeValues"] = to_item({":read": read_version})
        return {"Put": put}

    def _order_update(self) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.store.table_name,
                "Key": {"order_id": {"S": self.order[item.KEY]}},
                "UpdateExpression": (
                    "SET courier_status = :courier_status, version = version + :one, updated_at = :now, "
                    "#history = list_append(#history, :entry)"
                ),
                "ConditionExpression": (
                    "#status = :despatched AND version = :read AND size(#history) < :max_history "
                    "AND (attribute_not_exists(courier_status) OR courier_status.occurred_at <= :newest_at)"
                ),
                "ExpressionAttributeNames": {"#status": item.STATUS, "#history": item.HISTORY},
                "ExpressionAttributeValues": to_item(
                    {
                        ":courier_status": tracking.courier_status(self.newest),
                        ":one": 1,
                        ":now": self.at,
                        ":entry": [self.entry],
                        ":despatched": OrderStatus.DESPATCHED.value,
                        ":read": self.order[item.VERSION],
                        ":max_history": domain.MAX_HISTORY,
                        ":newest_at": self.newest["occurred_at"],
                    }
                ),
            }
        }

    def _order_check(self) -> dict[str, Any]:
        return {
            "ConditionCheck": {
                "TableName": self.store.table_name,
                "Key": {"order_id": {"S": self.order[item.KEY]}},
                "ConditionExpression": "#status = :despatched",
                "ExpressionAttributeNames": {"#status": item.STATUS},
                "ExpressionAttributeValues": to_item({":despatched": OrderStatus.DESPATCHED.value}),
            }
        }
