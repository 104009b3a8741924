"""What each command writes, measured on moto in process: the attributes of every PutItem and
UpdateItem the functions send, and the item's size, attribute by attribute, after each step of each
path of infra/capacity/commands.toml; and what a delivery writes to the notifications table.

`make capacity` reads the sizes from infra/capacity/measured.json, which this writes:

    .venv/bin/python -m tests.bench.writes      # after a change to what a command writes or stores

tests/integration/test_capacity_writes.py holds commands.toml's attribute lists, and measured.json,
to what `measure()` finds. Sizes follow DynamoDB's rules (tests/bench/cost.py's `item_size`: the
attribute name's bytes plus the value's). String values are kept with the seller's id, the order's id
and times replaced by `{seller}`, `{order}` and `{time}`: what an index's partition key holds tells
`make capacity` whether one seller's orders share it, or every seller's.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

from infra.capacity import data
from tests.bench.cost import item_size

MEASURED = data.MEASURED
SELLER = "S-100234"  # 8 characters, a seller id of the form the demo's have
# A typical order: three lines and a two-line address (tests/support/api.py's NEW_ORDER has one line).
ORDER = {
    "items": [
        {"sku": "TSHIRT-RED-M", "quantity": 2},
        {"sku": "HOODIE-GREY-L", "quantity": 1},
        {"sku": "SOCKS-BLACK-3PK", "quantity": 3},
    ],
    "recipient": {
        "name": "Ada Lovelace",
        "address_line1": "12 St James's Square",
        "address_line2": "Flat 4",
        "city": "London",
        "postcode": "SW1Y 4JH",
        "country": "GB",
    },
    "courier_service": "ROYAL_MAIL_48",
}
TRACKING_NUMBER = "JD0002212345678901"  # a courier's 18 characters
# The body each command sends (the seller's or the warehouse's), by commands.toml's name.
BODIES: dict[str, dict[str, Any] | None] = {
    "edit": {"courier_service": "DPD_NEXT_DAY"},
    "cancel": None,
    "request": {"reason_code": "CUSTOMER_REQUEST", "note": "The customer ordered the wrong size."},
    "approve": {"decision": "APPROVED"},
    "reject": {"decision": "REJECTED", "reason_code": "ALREADY_PACKED", "note": "In the courier cage."},
    # A courier event that moves the courier status (the order is written only then: docs/api.md §12).
    "track": {
        "events": [
            {
                "event_id": "RM-LS-0001-000001",
                "status": "IN_TRANSIT",
                "occurred_at": "2026-11-26T09:15:00Z",
                "location": "Leeds Mail Centre",
                "description": "Item received at the mail centre",
            }
        ]
    },
    # docs/api.md §11: the lines replaced (an order on backorder goes back to PENDING), and a split.
    "edit_items": {"items": [{"sku": "TSHIRT-RED-M", "quantity": 2}, {"sku": "HOODIE-GREY-L", "quantity": 1}]},
    "split": None,
}
# The warehouse's backorder: one of the two T-shirts and the socks short, stock due on a day.
BACKORDER = {
    "backordered_items": [
        {"line": 1, "sku": "TSHIRT-RED-M", "quantity": 1},
        {"line": 3, "sku": "SOCKS-BLACK-3PK", "quantity": 3},
    ],
    "expected_at": "2026-12-24",
}
CHANNEL_URLS = ("https://hooks.example.com/orders/cancellations", "https://erp.example.net/webhooks/S-100234")
# What varies from one run to the next, written in general: the times, the ids, a channel's secret.
_GENERAL = (
    (re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"), "{time}"),
    (re.compile(r"ord_[a-z2-7]{26}"), "{order}"),
    (re.compile(r"ch_[a-z2-7]{26}"), "{channel}"),
    (re.compile(r"whsec_[A-Za-z0-9_-]{43}"), "{secret}"),
)


def attributes_written(operation: str, params: dict[str, Any]) -> dict[str, list[str]]:
    """The top-level attributes a PutItem puts, or an UpdateItem SETs, REMOVEs, ADDs or DELETEs; of a
    transaction, what it writes to the orders table (the tracking table's timeline is not in the model)."""
    if operation == "TransactWriteItems":
        return _transaction_written(params)
    if operation == "PutItem":
        return {"put": sorted(params["Item"])}
    if operation == "TransactWriteItems":
        # One request: each item's write, merged (a split's update of its order and put of the new one).
        merged: dict[str, set[str]] = {}
        for entry in params["TransactItems"]:
            [(kind, write)] = entry.items()
            found = attributes_written("PutItem" if kind == "Put" else "UpdateItem", write)
            for action, names in found.items():
                merged.setdefault(action, set()).update(names)
        return {action: sorted(names) for action, names in sorted(merged.items())}
    names = params.get("ExpressionAttributeNames", {})
    found: dict[str, list[str]] = {}
    for action, clause in _clauses(params["UpdateExpression"]):
        paths = [part.split("=", 1)[0] if action == "set" else part.split()[0] for part in _top_level_split(clause)]
        tops = {names.get(top, top) for top in (re.split(r"[.\[]", path.strip(), maxsplit=1)[0] for path in paths)}
        found[action] = sorted(set(found.get(action, [])) | tops)
    return found


def _transaction_written(params: dict[str, Any]) -> dict[str, list[str]]:
    from orders.settings import settings

    orders_table = settings().table_name
    found: dict[str, list[str]] = {}
    for entry in params["TransactItems"]:
        [(kind, action)] = entry.items()
        if action["TableName"] == orders_table and kind in ("Put", "Update"):
            found |= attributes_written(f"{kind}Item", action)
    return found


def _clauses(expression: str) -> list[tuple[str, str]]:
    """(action, its clause) for each of SET, REMOVE, ADD and DELETE in an update expression."""
    parts = re.split(r"\b(SET|REMOVE|ADD|DELETE)\b", expression)
    return [(parts[i].lower(), parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def _top_level_split(clause: str) -> list[str]:
    """A clause's comma-separated actions, ignoring the commas inside a function's parentheses."""
    actions, depth, current = [], 0, ""
    for character in clause:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if character == "," and depth == 0:
            actions.append(current)
            current = ""
        else:
            current += character
    return [action.strip() for action in [*actions, current] if action.strip()]


def image(item: dict[str, Any]) -> dict[str, Any]:
    """An item as `make capacity` reads it: each attribute's bytes, and its value where it is a string."""
    return {
        "sizes": {name: item_size({name: _sizable(value)}) for name, value in sorted(item.items())},
        "values": {name: _general(value) for name, value in sorted(item.items()) if isinstance(value, str)},
    }


def _sizable(value: Any) -> Any:
    """A string set sized as a list: 3 bytes and one a member more than DynamoDB may count for a set."""
    return sorted(value) if isinstance(value, frozenset) else value


def _general(value: str) -> str:
    value = value.replace(SELLER, "{seller}")
    for pattern, general in _GENERAL:
        value = pattern.sub(general, value)
    return value


class Capture:
    """The writes the functions' DynamoDB client sends while a step runs (not the reads made to measure)."""

    def __init__(self) -> None:
        from orders.settings import dynamodb

        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.recording = False
        for operation in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"):
            dynamodb().meta.events.register(f"before-call.dynamodb.{operation}", self._record)

    def _record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        # The request as it goes on the wire: DynamoDB's JSON protocol sends the API's parameters as the body.
        if self.recording:
            from orders.settings import settings

            sent = json.loads(params["body"])
            # The tracking table's timeline (docs/api.md §12) is not in the model: the orders table's writes are.
            if sent.get("TableName") != settings().tracking_table_name:
                self.calls.append((model.name, sent))

    @contextmanager
    def step(self) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        self.calls = []
        self.recording = True
        try:
            yield self.calls
        finally:
            self.recording = False


def _drive(command: str, definition: data.Command, order_id: str | None, reference: str) -> dict[str, Any] | None:
    """Run one command through its function, as API Gateway or the scheduler would; the order it answers."""
    from tests.support.api import invoke

    if command == "create":
        reply = invoke("POST", "/orders", body={"reference": reference, **ORDER}, seller_id=SELLER)
        assert reply.status == 201, reply.body
        return dict(reply.body)
    assert order_id is not None
    if command == "escalate":
        from orders.dynamodb import now, seconds_after
        from orders.store import OrderStore

        assert OrderStore().escalate(order_id, at=seconds_after(now(), 3 * 3600))  # past the 2-hour limit
        return None
    assert definition.route is not None
    method, resource = definition.route.split(" ", 1)
    body = BODIES.get(command)
    if definition.status:
        body = {"status": definition.status}
        if definition.status == "DESPATCHED":
            body["tracking_number"] = TRACKING_NUMBER
        if definition.status == "ON_BACKORDER":
            body.update(BACKORDER)
    identity: dict[str, Any] = {"warehouse": True} if resource.startswith("/warehouse/") else {"seller_id": SELLER}
    reply = invoke(method, resource, path_parameters={"order_id": order_id}, body=body, **identity)
    assert reply.status in (200, 201, 202), (command, reply.body)
    return dict(reply.body["backorder"] if command == "split" else reply.body)


def _stored(order_id: str) -> dict[str, Any]:
    from orders.dynamodb import from_item
    from orders.settings import dynamodb, settings

    found = dynamodb().get_item(TableName=settings().table_name, Key={"order_id": {"S": order_id}}, ConsistentRead=True)
    stored = from_item(found["Item"])
    assert stored is not None
    return stored


Change = tuple[dict[str, Any] | None, dict[str, Any]]


def _path(steps: tuple[str, ...], reference: str, table: data.CommandTable, capture: Capture) -> tuple[list, Change]:
    """Each step's writes and the item after it, for one order taken along the path; and its last change."""
    measured: list[dict[str, Any]] = []
    order_id, before, after = None, None, None
    for command in steps:
        before = after
        with capture.step() as calls:
            answered = _drive(command, table.commands[command], order_id, reference)
        order_id = order_id or (answered or {})["order_id"]
        after = _stored(order_id)
        measured.append(
            {
                "command": command,
                "writes": [attributes_written(operation, params) for operation, params in calls],
                "event": after["history"][-1]["event"],
                "item": image(after),
            }
        )
    assert after is not None
    return measured, (before, after)


def _notifications(change: Change, capture: Capture) -> dict[str, Any]:
    """One delivery of `change`'s event to a seller with two channels, both answering 2xx."""
    from orders.domain import NOTIFIED_EVENT_NAMES
    from orders.dynamodb import from_item, from_items, to_item
    from orders.notification import store as notification_store
    from orders.notification import webhooks
    from orders.notification.delivery import deliver
    from orders.notification.events import event_for_change
    from orders.notification.store import Lease, NotificationStore
    from orders.settings import dynamodb, settings

    store = NotificationStore()
    for url in CHANNEL_URLS:
        store.create_channel(SELLER, url, list(NOTIFIED_EVENT_NAMES), "The shop's order system")
    event = event_for_change(*change)
    assert event is not None
    body = json.loads(event.model_dump_json())

    def answered(target: webhooks.Target, sent: bytes, headers: dict[str, str]) -> webhooks.Answer:
        return webhooks.Answer(200)

    public: Callable[[str, int], list[str]] = lambda host, port: ["93.184.215.14"]  # noqa: E731 - a public address
    # The feed item's expiry is a number, whose size moves with the clock's trailing zeros: a clock of its own.
    clock = SimpleNamespace(time=lambda: 1_765_432_109.5)
    with (
        capture.step() as calls,
        mock.patch.object(webhooks, "resolve", public),
        mock.patch.object(notification_store, "time", clock),
        ThreadPoolExecutor(2) as pool,
    ):
        # The lease an SQS message's attempt takes (its message id, until its invocation ends: 30 s on).
        lease = Lease("059f36b4-87a3-44ab-83d2-661975830a7d", int(clock.time() * 1000) + 30_000)
        outcome = deliver(body, store, allow_local=False, pool=pool, lease=lease, post=answered)
    assert len(outcome.delivered) == len(CHANNEL_URLS), outcome
    client, table = dynamodb(), settings().notifications_table_name
    key = {"pk": f"SELLER#{SELLER}", "sk": f"FEED#{body['occurred_at']}#{body['event_id']}"}
    feed = from_item(client.get_item(TableName=table, Key=to_item(key), ConsistentRead=True)["Item"])
    assert feed is not None
    channels = from_items(
        client.query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :channel)",
            ExpressionAttributeValues=to_item({":pk": key["pk"], ":channel": "CHANNEL#"}),
        )["Items"]
    )
    return {
        "writes": [attributes_written(operation, params) for operation, params in calls],
        "feed_item": image(feed),
        "channel_items": [image(channel) for channel in sorted(channels, key=lambda channel: channel["url"])],
        "event_bytes": len(event.model_dump_json().encode()),
    }


def measure() -> dict[str, Any]:
    """Every path of commands.toml, and a delivery; moto must be up with the template's tables (the `aws` fixture)."""
    table = data.command_table()
    capture = Capture()
    paths, changes = {}, {}
    for number, (name, steps) in enumerate(table.paths.items()):
        # An order of its own for each path, its reference as long as the others'.
        paths[name], changes[name] = _path(steps, f"SHOP-{100234 + number}", table, capture)
    return {
        "about": (
            "Generated by `python -m tests.bench.writes` (tests/bench/writes.py): what each command writes "
            "and each attribute's bytes after each step; held to the code by tests/integration/test_capacity_writes.py."
        ),
        "order": {"seller_id": SELLER, **ORDER, "tracking_number": TRACKING_NUMBER},
        "paths": paths,
        # A decision the seller hears of, delivered: the feed's put and its `delivered` update.
        "notifications": _notifications(changes["request_approved"], capture),
    }


@contextmanager
def _moto() -> Iterator[None]:
    """moto in process with the template's two tables, as the tests' `aws` fixture makes them."""
    import tests.conftest  # noqa: F401 - its environment: fake credentials, the region, the tables' names
    from infra.local.moto_dynamodb import patch_dynamodb
    from infra.template import NOTIFICATIONS_TABLE, TRACKING_TABLE, table_definition
    from orders import settings

    patch_dynamodb()
    from moto import mock_aws

    with mock_aws():
        settings.reset()
        client = settings.dynamodb()
        client.create_table(**table_definition(os.environ["TABLE_NAME"]))
        client.create_table(**table_definition(os.environ["NOTIFICATIONS_TABLE_NAME"], NOTIFICATIONS_TABLE))
        client.create_table(**table_definition(os.environ["TRACKING_TABLE_NAME"], TRACKING_TABLE))
        yield
        settings.reset()


def write(path: Path = MEASURED) -> None:
    import warnings

    warnings.filterwarnings("ignore", "No application metrics to publish")  # the reads publish none
    with _moto():
        measured = measure()
    path.write_text(json.dumps(measured, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else MEASURED)
