"""A despatched order's tracking (docs/api.md §12): its timeline in the tracking table, its courier status
on the order.

A batch of carrier events costs one read and at most two writes, whatever its size:

1. one `BatchGetItem` (strongly consistent) of the order and its timeline;
2. the rules on what was read (404, 409 `ORDER_NOT_DESPATCHED` / `ORDER_CANCELLED`) and the merge
   (orders.tracking): a batch whose every event is already held writes nothing;
3. a `PutItem` of the whole timeline, conditioned on the version read (DynamoDB cannot sort,
   deduplicate and trim a list in an update expression, so the timeline is read, merged and written
   back whole, and the condition makes two batches' merges one after the other);
4. when the timeline's newest event is newer than the order's courier status and of another status,
   one `UpdateItem` of the order: the courier status, `version + 1` and a `COURIER_STATUS_CHANGED`
   history entry, conditioned on every rule: the order is DESPATCHED, its version is the one read,
   its history has room, and the courier status it holds is not newer than the one written.

The timeline's write holds no rule of the order's state: DESPATCHED is final in the lifecycle, so an
order read as DESPATCHED stays so, and the order's own write holds the rules again. The timeline is
written first: should the function stop between the two writes, the warehouse's retry finds the events
held and the order behind its timeline, and moves it then (step 4 is decided from the timeline, not from
the batch). A refused condition means another batch for this order committed in between: the store
reads again and decides again (at most `MAX_ATTEMPTS` in all, then 503), so two batches racing both
end up in the timeline and the courier status is the newest of both, whichever committed first.
The order is written only when its courier status changes, so a re-sent batch writes nothing, and the
stream (hence the event `COURIER_STATUS_CHANGED`) hears of each change once.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

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
            if merged.changed:
                written = self._put_timeline(timeline, merged)
                if written is None:
                    self._pause(attempt)
                    continue  # another batch wrote the timeline meanwhile: read and merge again
                timeline = written
            moved = self._move_order(order, timeline)
            if moved is False:
                self._pause(attempt)
                continue  # another batch moved the order meanwhile: read and decide again
            return Tracked(moved or order, timeline, merged, status_changed=moved is not None)
        raise StoreUnavailable(f"tracking of {order_id} still contended after {MAX_ATTEMPTS} tries")

    def _put_timeline(self, read: TrackingItem, merged: Merged) -> TrackingItem | None:
        """The merged timeline, written if it is still at the version read; None when it is not."""
        written: TrackingItem = {
            "order_id": read["order_id"],
            "version": read["version"] + 1,
            "events": merged.kept,
            "dropped": read["dropped"] + len(merged.dropped),
        }
        put: dict[str, Any] = {"TableName": self.tracking_table_name, "Item": to_item(written)}
        if read["version"] == 0:
            put["ConditionExpression"] = "attribute_not_exists(order_id)"
        else:
            put["ConditionExpression"] = "version = :read"
            put["ExpressionAttributeValues"] = to_item({":read": read["version"]})
        return written if self._conditional(self.client.put_item, put) else None

    def _move_order(self, order: OrderItem, timeline: TrackingItem) -> OrderItem | None | Literal[False]:
        """The order with its new courier status, if the timeline's newest event moves it (None: it does
        not; False: another write changed the order since it was read)."""
        newest = timeline["events"][-1] if timeline["events"] else None
        if newest is None or not tracking.status_changes(order.get(item.COURIER_STATUS), newest):
            return None
        if item.growth_of(order).history >= domain.MAX_HISTORY:
            raise TrackingRefused(Refusal.HISTORY_LIMIT, order)
        at = now()
        courier_status = tracking.courier_status(newest)
        entry = item.history_entry(at, Event.COURIER_STATUS_CHANGED, WAREHOUSE, None)
        update = {
            "TableName": self.table_name,
            "Key": {"order_id": {"S": order[item.KEY]}},
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
                    ":courier_status": courier_status,
                    ":one": 1,
                    ":now": at,
                    ":entry": [entry],
                    ":despatched": OrderStatus.DESPATCHED.value,
                    ":read": order[item.VERSION],
                    ":max_history": domain.MAX_HISTORY,
                    ":newest_at": newest["occurred_at"],
                }
            ),
        }
        if not self._conditional(self.client.update_item, update):
            return False
        return item.read(
            {
                **order,
                item.COURIER_STATUS: courier_status,
                item.VERSION: order[item.VERSION] + 1,
                "updated_at": at,
                item.HISTORY: [*order[item.HISTORY], entry],
            }
        )

    @staticmethod
    def _conditional(operation: Any, arguments: dict[str, Any]) -> bool:
        """One conditional write; False when its condition failed (nothing was written)."""
        try:
            call(operation, **arguments)
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    @staticmethod
    def _pause(attempt: int) -> None:
        if attempt < MAX_ATTEMPTS:
            time.sleep(random.uniform(0, _RETRY_PAUSE_SECONDS * attempt))  # noqa: S311 - jitter, no secret
