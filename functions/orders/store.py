"""The orders table: one conditional DynamoDB write per command, refusals read off the old item.

A command's write is conditioned on the set of states in which the rules table (domain.py)
gives that very transition, and on the caller owning the order. When the condition fails,
DynamoDB hands back the item as it stood (`ReturnValuesOnConditionCheckFailure=ALL_OLD`)
and the same table says what to answer: 404, the 409 of the state that won, "200,
unchanged", or (only for a despatch that meets a pending request) the other write.
AWS errors become domain errors here and nowhere else.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from orders import domain, stored
from orders.domain import (
    SYSTEM,
    Action,
    Caller,
    Details,
    Event,
    Outcome,
    Refusal,
    RequestStatus,
    State,
    Transition,
    Unchanged,
)
from orders.dynamodb_json import from_item, to_item
from orders.settings import dynamodb, settings

SELLER_INDEX = "by-seller"
STATUS_INDEX = "by-status"
QUEUE_INDEX = "warehouse-queue"  # pending requests, most urgent first (projects the whole order)
ESCALATION_INDEX = "escalation-due"  # pending requests not yet escalated (keys only)
# A page is one Query; a second only when DynamoDB's 1 MB limit cut the first short (docs/api.md §10).
MAX_REQUESTS_PER_PAGE = 2
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


class OrderNotFound(Exception):
    def __init__(self, order_id: str):
        super().__init__(f"Order {order_id} not found")
        self.order_id = order_id


class RefusalError(Exception):
    """The order's state forbids the command (the rules answered a `Refusal`); `order` is the item as it stood."""

    def __init__(self, action: Action, refusal: Refusal, order: dict[str, Any]):
        super().__init__(refusal)
        self.action = action
        self.refusal = refusal
        self.order = order


class PreconditionFailed(Exception):
    """If-Match named another version than the order's; `order` is the item as it stood."""

    def __init__(self, order: dict[str, Any]):
        super().__init__(order[stored.VERSION])
        self.order = order


class StoreUnavailable(Exception):
    """DynamoDB kept throttling after the SDK's retries; nothing was written."""


class InvalidPageToken(ValueError):
    pass


@dataclass(frozen=True)
class Applied:
    """A command carried out: the item as it now stands, what the rules made of it, and its state."""

    order: dict[str, Any]
    outcome: Outcome
    state: State


def now() -> str:
    return timestamp(datetime.now(UTC))


def timestamp(moment: datetime) -> str:
    """The stored form of a time: ISO 8601 in UTC with microseconds, so that strings sort as times."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _seconds_after(at: str, seconds: int) -> str:
    return timestamp(datetime.fromisoformat(at.replace("Z", "+00:00")) + timedelta(seconds=seconds))


@dataclass(frozen=True)
class QueuePage:
    """A page of the warehouse's queue: the orders, and the token of the next page (None at the end)."""

    orders: list[dict[str, Any]]
    next_token: str | None


@dataclass(frozen=True)
class OverduePage:
    """Order ids of pending, not yet escalated requests due by the sweep's time, and where to go on from."""

    order_ids: list[str]
    last_key: dict[str, Any] | None


NO_DETAILS = Details()


class OrderStore:
    """The orders table. Its name and client come from settings when used, so `settings.reset()` reaches them."""

    def __init__(self, table_name: str | None = None, client: Any = None):
        self._table_name = table_name
        self._client = client

    @property
    def table_name(self) -> str:
        return self._table_name or settings().table_name

    @property
    def client(self) -> Any:
        return self._client or dynamodb()

    # -- reads ---------------------------------------------------------------------------

    def get(self, order_id: str, caller: Caller) -> dict[str, Any]:
        response = self._call(self.client.get_item, TableName=self.table_name, Key=_key(order_id), ConsistentRead=True)
        order = from_item(response.get("Item"))
        if not stored.visible_to(order, caller):
            raise OrderNotFound(order_id)
        return order

    def list_for_seller(
        self, seller_id: str, *, status: str | None, limit: int, page_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of a seller's orders, newest first, and the token of the next page (None at the end).

        One Query, with no filter, on the index keyed for the listing: by-seller, or by-status for
        `?status=`. It asks for one order more than the page holds, to know whether another page
        exists; a second Query is made only when DynamoDB's 1 MB response limit cut the first short.
        """
        if status:
            query: dict[str, Any] = {
                "IndexName": STATUS_INDEX,
                "KeyConditionExpression": "#status = :status AND begins_with(seller_created, :seller)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":status": {"S": status},
                    ":seller": {"S": stored.seller_prefix(seller_id)},
                },
            }
        else:
            query = {
                "IndexName": SELLER_INDEX,
                "KeyConditionExpression": "seller_id = :seller",
                "ExpressionAttributeValues": {":seller": {"S": seller_id}},
            }
        if page_token:
            order_id, created_at = _decode_page_token(page_token)
            start = {"order_id": order_id, "seller_id": seller_id, "created_at": created_at}
            if status:
                start = {
                    "order_id": order_id,
                    "status": status,
                    "seller_created": stored.seller_created(seller_id, created_at),
                }
            query["ExclusiveStartKey"] = to_item(start)

        found: list[dict[str, Any]] = []
        for _ in range(MAX_REQUESTS_PER_PAGE):
            page = self._call(
                self.client.query,
                TableName=self.table_name,
                ScanIndexForward=False,
                Limit=limit + 1 - len(found),
                **query,
            )
            found.extend(from_item(item) for item in page["Items"])
            if len(found) > limit or "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        orders = found[:limit]
        more = len(found) > limit or "LastEvaluatedKey" in page
        return orders, _encode_page_token(orders[-1]) if more and orders else None

    def pending_requests(
        self, *, overdue: bool | None, limit: int, page_token: str | None, at: str | None = None
    ) -> QueuePage:
        """A page of the warehouse's queue (docs/api.md §6): one Query on the sparse `warehouse-queue` index.

        `overdue` is a key condition on the due time (passed by `at`, or not). The page token is the
        last order's position, and a page goes on after it through the key condition alone where
        time has moved the position out of the range asked for (a not-yet-overdue page whose last
        order is overdue now), since DynamoDB refuses a start key outside its key condition.
        Whatever 1 MB of index data holds is a page: it may be short, never a second request.
        """
        bound = stored.due_by(at or now())
        position = _decode_queue_token(page_token) if page_token else None
        condition, values = "#queue = :queue", {":queue": {"S": stored.QUEUE_PARTITION}}
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
            "ExpressionAttributeNames": {"#queue": stored.QUEUE},
            "ExpressionAttributeValues": values,
            "Limit": limit + 1,
        }
        if start is not None:
            query["ExclusiveStartKey"] = to_item(
                {"order_id": start.rsplit("#", 1)[1], stored.QUEUE: stored.QUEUE_PARTITION, stored.QUEUE_DUE: start}
            )
        page = self._call(self.client.query, **query)
        found = [from_item(item) for item in page["Items"]]
        orders = found[:limit]
        more = len(found) > limit or "LastEvaluatedKey" in page
        return QueuePage(orders, _encode_queue_token(orders[-1]) if more and orders else None)

    def due_for_escalation(self, at: str, *, limit: int, start_key: dict[str, Any] | None = None) -> OverduePage:
        """One Query on the `escalation-due` index: pending requests due by `at` that nobody escalated yet."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": ESCALATION_INDEX,
            "KeyConditionExpression": "#queue = :queue AND escalation_due < :bound",
            "ExpressionAttributeNames": {"#queue": stored.QUEUE},
            "ExpressionAttributeValues": {
                ":queue": {"S": stored.QUEUE_PARTITION},
                ":bound": {"S": stored.due_by(at)},
            },
            "Limit": limit,
        }
        if start_key:
            query["ExclusiveStartKey"] = start_key
        page = self._call(self.client.query, **query)
        return OverduePage([item["order_id"]["S"] for item in page["Items"]], page.get("LastEvaluatedKey"))

    def count_overdue(self, at: str) -> int:
        """How many pending requests are due by `at`, escalated or not: COUNT queries of `warehouse-queue`.

        One request per 1 MB of the overdue part of the index, for the sweep's metric only.
        """
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": QUEUE_INDEX,
            "KeyConditionExpression": "#queue = :queue AND queue_due < :bound",
            "ExpressionAttributeNames": {"#queue": stored.QUEUE},
            "ExpressionAttributeValues": {":queue": {"S": stored.QUEUE_PARTITION}, ":bound": {"S": stored.due_by(at)}},
            "Select": "COUNT",
        }
        total = 0
        while True:
            page = self._call(self.client.query, **query)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- writes --------------------------------------------------------------------------

    def create(self, seller_id: str, draft: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store a new order; if the seller already has one with this reference, return that instead."""
        order = stored.new_item(seller_id, draft, now())
        try:
            self._call(
                self.client.put_item,
                TableName=self.table_name,
                Item=to_item(order),
                ConditionExpression="attribute_not_exists(order_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            return _refused_item(error), False
        return order, True

    def apply(self, order_id: str, action: Action, caller: Caller, details: Details = NO_DETAILS) -> Applied:
        """Carry out `action` with the one conditional write the rules allow from the order's state."""
        if action == Action.EDIT and not details.changes:
            raise ValueError("an edit names the fields it replaces")
        candidates = domain.transitions(action)
        transition = next(iter(candidates))
        # Each retry follows a state change someone else made, and orders only move forward.
        for _ in domain.ALL_STATES:
            try:
                response = self._call(
                    self.client.update_item,
                    **self._transition_write(order_id, transition, candidates[transition], caller, details),
                )
                order = from_item(response["Attributes"])
                return Applied(order, transition, stored.state_of(order))
            except ClientError as error:
                current = _refused_item(error)
            if not stored.visible_to(current, caller):
                raise OrderNotFound(order_id)
            # If-Match is checked before the rules: the caller's copy of the order is out of date.
            if details.expected_versions is not None and current[stored.VERSION] not in details.expected_versions:
                raise PreconditionFailed(current)
            state = stored.state_of(current)
            outcome = domain.decide(state, action)
            # The same transition refused from a state it starts from: only "some field differs" failed.
            if isinstance(outcome, Unchanged) or outcome == transition:
                return Applied(current, Unchanged(), state)
            if isinstance(outcome, Refusal):
                raise RefusalError(action, outcome, current)
            transition = outcome
        raise RuntimeError(f"{action} on {order_id} did not settle")  # unreachable: states form a DAG

    def escalate(self, order_id: str, at: str | None = None) -> bool:
        """Mark a pending request overdue, with one conditional write; False when it is not to be escalated.

        The condition is the rule of docs/api.md §6: the request is still REQUESTED, due by now, and
        not yet escalated (its `escalation_due` key is there). Two sweeps racing, a retried
        invocation or a decision that came first: the write fails, and nothing changes.
        """
        at = at or now()
        entry = stored.history_entry(at, Event.CANCELLATION_REQUEST_OVERDUE, SYSTEM, None)
        try:
            self._call(
                self.client.update_item,
                TableName=self.table_name,
                Key=_key(order_id),
                UpdateExpression=(
                    "SET #request.escalated_at = :now, version = version + :one, updated_at = :now, "
                    "history = list_append(history, :entry) REMOVE escalation_due"
                ),
                ConditionExpression=(
                    "attribute_exists(escalation_due) AND #request.#request_status = :requested "
                    "AND #request.due_at <= :now"
                ),
                ExpressionAttributeNames={"#request": stored.REQUEST, "#request_status": "status"},
                ExpressionAttributeValues=to_item(
                    {":now": at, ":one": 1, ":entry": [entry], ":requested": RequestStatus.REQUESTED.value}
                ),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _transition_write(
        self,
        order_id: str,
        transition: Transition,
        from_states: tuple[State, ...],
        caller: Caller,
        details: Details,
    ) -> dict[str, Any]:
        at = now()
        names = {"#status": "status", "#request": "cancellation_request", "#request_status": "status"}
        changes = dict(details.changes or {})
        changed = sorted(changes) or None
        values: dict[str, Any] = {
            ":one": 1,
            ":now": at,
            ":entry": [stored.history_entry(at, transition.event, caller, transition.status, changed)],
        }
        updates = ["version = version + :one", "updated_at = :now", "history = list_append(history, :entry)"]
        for field, value in changes.items():
            names[f"#edit_{field}"] = field
            values[f":edit_{field}"] = value
            updates.append(f"#edit_{field} = :edit_{field}")
        if transition.status:
            updates.append("#status = :new_status")
            values[":new_status"] = transition.status.value
        if transition.status and details.tracking_number:
            updates.append("tracking_number = :tracking_number")
            values[":tracking_number"] = details.tracking_number
        removals: list[str] = []
        if transition.request == RequestStatus.REQUESTED:
            due_at = _seconds_after(at, settings().cancellation_request_sla_seconds)
            updates.append("#request = :request")
            values[":request"] = stored.new_request(details, at, due_at)
            for name, value in stored.queue_keys(due_at, order_id).items():
                names[f"#{name}"] = name
                values[f":{name}"] = value
                updates.append(f"#{name} = :{name}")
        elif transition.request:
            # Decided (or rejected by the despatch): off the warehouse's queue, in the same write.
            for name in stored.QUEUE_ATTRIBUTES:
                names[f"#{name}"] = name
                removals.append(f"#{name}")
            updates += [
                "#request.#request_status = :new_request_status",
                "#request.decision_reason_code = :decision_reason_code",
                "#request.decision_note = :decision_note",
                "#request.decided_at = :now",
            ]
            values[":new_request_status"] = transition.request.value
            values[":decision_reason_code"] = transition.decision_reason or details.reason_code
            values[":decision_note"] = None if transition.decision_reason else details.note

        conditions = [_states_condition(from_states, values)]
        if changes:
            # An edit that changes nothing writes nothing (DynamoDB compares maps and lists by value).
            conditions.append("(" + " OR ".join(f"#edit_{field} <> :edit_{field}" for field in changes) + ")")
        if details.expected_versions is not None:
            versions = sorted(details.expected_versions) or [-1]  # only weak tags: no version can match
            for index, version in enumerate(versions):
                values[f":if_match_{index}"] = version
            conditions.append("version IN ({})".format(", ".join(f":if_match_{i}" for i in range(len(versions)))))
        if caller.seller_id:
            conditions.append("seller_id = :seller")
            values[":seller"] = caller.seller_id
        else:
            conditions.append("attribute_exists(order_id)")
        update = "SET " + ", ".join(updates) + (" REMOVE " + ", ".join(removals) if removals else "")
        condition = " AND ".join(conditions)
        return {
            "TableName": self.table_name,
            "Key": _key(order_id),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            # DynamoDB refuses names an expression does not use.
            "ExpressionAttributeNames": {
                alias: name for alias, name in names.items() if re.search(rf"{alias}\b", update + condition)
            },
            "ExpressionAttributeValues": to_item(values),
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def _call(self, operation: Any, **kwargs: Any) -> Any:
        return call(operation, **kwargs)


def call(operation: Any, **kwargs: Any) -> Any:
    """One DynamoDB request; throttling that outlasted the SDK's retries is StoreUnavailable (a 503)."""
    try:
        return operation(**kwargs)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in THROTTLING_CODES:
            raise StoreUnavailable(str(error)) from error
        raise


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


def _refused_item(error: ClientError) -> dict[str, Any] | None:
    """The item a failed condition found (None: there was none); any other error goes on up."""
    if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
        raise error
    return from_item(error.response.get("Item"))


def _key(order_id: str) -> dict[str, Any]:
    return {"order_id": {"S": order_id}}


def _encode_page_token(order: dict[str, Any]) -> str:
    position = {"order_id": order["order_id"], "created_at": order["created_at"]}
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def _encode_queue_token(order: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(order[stored.QUEUE_DUE].encode()).decode().rstrip("=")


def _decode_queue_token(token: str) -> str:
    """The queue position ("<due_at>#<order_id>") of the last order of the page before."""
    try:
        position = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, ValueError) as error:
        raise InvalidPageToken("next_token is not a token this API issued") from error
    due_at, _, order_id = position.rpartition("#")
    if not (due_at and QUEUE_TOKEN_ORDER_ID.fullmatch(order_id)):
        raise InvalidPageToken("next_token is not a token this API issued")
    return position


QUEUE_TOKEN_ORDER_ID = re.compile(r"ord_[a-z2-7]{26}")


def _decode_page_token(token: str) -> tuple[str, str]:
    """(order_id, created_at) of the last order of the page before."""
    try:
        position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        order_id, created_at = position["order_id"], position["created_at"]
        if not (isinstance(order_id, str) and isinstance(created_at, str) and order_id and created_at):
            raise TypeError  # DynamoDB refuses an empty key attribute in ExclusiveStartKey
    except (binascii.Error, ValueError, TypeError, KeyError) as error:
        raise InvalidPageToken("next_token is not a token this API issued") from error
    return order_id, created_at
