"""Random command sequences from two sellers and the warehouse, against an independent model.

A hypothesis state machine sends commands through the real functions (REST events in, moto
behind) and keeps its own model of every order, built only from docs/api.md §2 as
tests/support/contract.py writes it out (CONTRACT and next_state, not orders.domain). After
every step it checks that the answer, each order as stored, its history, and the events the
notifier published from the table's stream (through infra/local/stream_poller, as Lambda would
deliver them) are exactly what the model says.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Any

import boto3
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.hardening.harness import SCALE, Notifications
from tests.support.api import NEW_ORDER, Reply, invoke
from tests.support.commands import http_call, method_of, state_name
from tests.support.contract import BUTTON, CONTRACT, EDITING, PATHS, next_state
from tests.support.contract import STATES as ALL_STATES

COURIERS = (NEW_ORDER["courier_service"], "DPD_NEXT_DAY", "EVRI_48")
SELLERS = ("S-1", "S-2")  # each example has its own two sellers: S-1.<n> and S-2.<n>
WAREHOUSE_COMMANDS = ("approve", "reject", "SENT_TO_WAREHOUSE", "PICKED", "PACKED", "DESPATCHED")
# The commands and states this machine models: those of docs/api.md §2. The backorder's (§11: its lines, the
# items edit, a split making a second order) are not in its model; tests/integration/test_backorders.py,
# test_split_handlers.py, test_split_races.py and test_rules_via_api.py take them.
SELLER_COMMANDS = ("cancel", "request", "edit")
STATES = tuple(state for state in ALL_STATES if not state.startswith("ON_BACKORDER"))
NOTIFIED = {"ORDER_CANCELLED", "CANCELLATION_REQUESTED", "CANCELLATION_APPROVED", "CANCELLATION_REJECTED"}
_references = itertools.count()
_examples = itertools.count()


@dataclass
class Change:
    event: str
    by: str
    to_status: str
    changed: list[str] | None = None  # an edit's fields


@dataclass
class ModelOrder:
    """An order as the contract says it must be: its state name (STATUS/REQUEST) and its changes."""

    order_id: str
    owner: str
    reference: str
    state: str = "PENDING/-"
    changes: list[Change] = field(default_factory=list)
    tracking_number: str | None = None
    courier_service: str = NEW_ORDER["courier_service"]

    @property
    def status(self) -> str:
        return self.state.split("/")[0]


class OrdersMachine(RuleBasedStateMachine):
    """Two sellers and the warehouse; the model is the contract's table, nothing else."""

    notifications: Notifications
    figures: Any
    dynamodb: Any
    cells: set[tuple[str, str]] = set()  # the contract's cells the run went through

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, ModelOrder] = {}
        self.expected_events: list[tuple[str, str, str]] = []  # (event_id, event_type, state after)
        self.last: tuple[str, str, str | None, dict | None, Reply] | None = None
        self.example = next(_examples)
        self.touched: set[str] = set()  # the orders the current step named
        self.figures.add("stateful_examples")
        # Whatever an earlier example left in the stream was checked then; start from a quiet topic.
        assert self.notifications.deliver() == []

    # -- calling the API ---------------------------------------------------------------------

    def call(self, method: str, resource: str, **kwargs: Any) -> Reply:
        self.figures.add("stateful_steps")  # one REST event into the real function
        reply = invoke(method, resource, **kwargs)
        assert reply.status < 500, (method, resource, reply.status, reply.body)
        assert "Traceback" not in str(reply.body)
        return reply

    def seller_id(self, seller: str) -> str:
        """This example's seller: the table outlives examples, and each seller's list must be the model's."""
        return f"{seller}.{self.example}"

    def send(self, command: str, order_id: str, seller: str | None, body: dict | None) -> Reply:
        resource, _, caller = http_call(command)
        identity = {"seller_id": self.seller_id(seller)} if caller == "seller" else {"warehouse": True}
        return self.call(method_of(command), resource, path_parameters={"order_id": order_id}, body=body, **identity)

    # -- rules -------------------------------------------------------------------------------

    @initialize(target=orders, first=st.sampled_from(STATES), second=st.sampled_from(STATES))
    def first_orders(self, first: str, second: str) -> MultipleResults[str]:
        """Each seller starts with an order somewhere in the lifecycle, so that sequences start deep."""
        return multiple(self.order_in_state("S-1", first), self.order_in_state("S-2", second))

    @rule(target=orders, seller=st.sampled_from(SELLERS))
    def create(self, seller: str) -> str:
        reference = f"SM-{next(_references)}"
        seller = self.seller_id(seller)
        reply = self.call("POST", "/orders", body={"reference": reference, **NEW_ORDER}, seller_id=seller)
        assert reply.status == 201, reply.body
        order = ModelOrder(reply.body["order_id"], seller, reference)
        order.changes.append(Change("ORDER_CREATED", f"seller:{seller}", "PENDING"))
        assert reply.body["order_id"] not in self.model
        self.model[order.order_id] = order
        self.touched.add(order.order_id)
        self.check_order(reply.body, order)
        return order.order_id

    @rule(target=orders, seller=st.sampled_from(SELLERS), state=st.sampled_from(STATES))
    def order_in_state(self, seller: str, state: str) -> str:
        """A new order taken to a state by the shortest way (contract.PATHS), every step checked."""
        order_id = self.create(seller)
        for command in PATHS[state]:
            body = http_call(command)[1]
            self.command(command, order_id, seller if command in SELLER_COMMANDS else None, body)
        assert self.model[order_id].state == state
        return order_id

    @rule(order_id=orders)
    def create_again(self, order_id: str) -> None:
        """The same reference again: the order as it stands, 200, never a second order."""
        order = self.model[order_id]
        body = {"reference": order.reference, **NEW_ORDER, "courier_service": "UPS_STANDARD"}  # another, listed
        reply = self.call("POST", "/orders", body=body, seller_id=order.owner)
        self.touched.add(order_id)
        assert reply.status == 200, reply.body
        self.check_order(reply.body, order)

    @rule(
        order_id=orders,
        seller=st.sampled_from(SELLERS),
        command=st.sampled_from(SELLER_COMMANDS),
        reason=st.sampled_from([None, "CUSTOMER_REQUEST", "ADDRESS_ERROR", "OTHER"]),
        courier=st.sampled_from(COURIERS),
    )
    def seller_command(self, order_id: str, seller: str, command: str, reason: str | None, courier: str) -> None:
        body = {"reason_code": reason, "note": "from the model"} if command == "request" and reason else None
        if command == "edit":
            body = {"courier_service": courier}  # a few couriers: an edit to the current one changes nothing
        self.command(command, order_id, seller, body)

    @rule(
        order_id=orders,
        command=st.sampled_from(WAREHOUSE_COMMANDS),
        tracking=st.sampled_from([None, "TRK-1", "TRK-2"]),
        reason=st.sampled_from(["ALREADY_PACKED", "IN_COURIER_COLLECTION", "OTHER"]),
    )
    def warehouse_command(self, order_id: str, command: str, tracking: str | None, reason: str) -> None:
        if command == "approve":
            body: dict[str, Any] = {"decision": "APPROVED"}
        elif command == "reject":
            body = {"decision": "REJECTED", "reason_code": reason}
        else:
            body = {"status": command, **({"tracking_number": tracking} if tracking else {})}
        self.command(command, order_id, None, body)

    # The commands again, so that a random step is more often a command than a read.
    @rule(order_id=orders, command=st.sampled_from(SELLER_COMMANDS))
    def owner_command(self, order_id: str, command: str) -> None:
        self.command(command, order_id, self.model[order_id].owner.split(".")[0], None)

    @rule(order_id=orders, command=st.sampled_from(WAREHOUSE_COMMANDS))
    def another_warehouse_command(self, order_id: str, command: str) -> None:
        self.warehouse_command(order_id, command, None, "OTHER")

    @precondition(lambda self: self.last is not None)
    @rule()
    def retry_the_last_command(self) -> None:
        """The same command again, as a client does when the answer was lost: success stays success, unchanged."""
        command, order_id, seller, body, previous = self.last
        model = self.model[order_id]
        before = (model.state, len(model.changes))
        reply = self.command(command, order_id, seller, body)
        if previous.status < 300:
            assert reply.status == previous.status, (command, previous.status, reply.status)
            assert (model.state, len(model.changes)) == before  # the model agrees: no second change

    @rule(order_id=orders, seller=st.sampled_from(SELLERS))
    def read(self, order_id: str, seller: str) -> None:
        order = self.model[order_id]
        seller = self.seller_id(seller)
        reply = self.call("GET", "/orders/{order_id}", path_parameters={"order_id": order_id}, seller_id=seller)
        if seller != order.owner:
            self.assert_not_found(reply)
            return
        assert reply.status == 200
        self.check_order(reply.body, order)

    @rule(
        seller=st.sampled_from(SELLERS), status=st.sampled_from([None, "PENDING", "PACKED", "DESPATCHED", "CANCELLED"])
    )
    def list_orders(self, seller: str, status: str | None) -> None:
        seller = self.seller_id(seller)
        query = {"limit": "100", **({"status": status} if status else {})}
        reply = self.call("GET", "/orders", query=query, seller_id=seller)
        assert reply.status == 200 and reply.body["next_token"] is None
        mine = [o for o in self.model.values() if o.owner == seller and (status is None or o.status == status)]
        # Newest first: the model holds them in the order they were created.
        assert [o["order_id"] for o in reply.body["orders"]] == [o.order_id for o in reversed(mine)]
        for listed in reply.body["orders"]:  # a summary: the order without its history (README, "Listing")
            assert "history" not in listed
            self.check_order(listed, self.model[listed["order_id"]])

    @rule(seller=st.sampled_from(SELLERS), command=st.sampled_from(SELLER_COMMANDS + WAREHOUSE_COMMANDS))
    def command_on_a_missing_order(self, seller: str, command: str) -> None:
        resource, body, _ = http_call(command)
        reply = self.send(command, "ord_" + "z" * 26, seller, body)
        self.assert_not_found(reply)

    # -- the model ---------------------------------------------------------------------------

    def command(self, command: str, order_id: str, seller: str | None, body: dict | None) -> Reply:
        order = self.model[order_id]
        self.touched.add(order_id)
        if command == "edit" and body is None:
            body = http_call("edit")[1]
        reply = self.send(command, order_id, seller, body)
        self.last = (command, order_id, seller, body, reply)
        if seller is not None and self.seller_id(seller) != order.owner:
            self.assert_not_found(reply)  # exactly as if it did not exist; and nothing changed (invariant)
            return reply

        expected = CONTRACT[order.state, command]
        self.cells.add((order.state, command))
        assert reply.status == expected.http_status, (order.state, command, reply.status, reply.body)
        if expected.http_status == 409:
            assert reply.headers["Content-Type"] == "application/problem+json"
            assert (reply.body["code"], reply.body["order_status"]) == (expected.code, order.status)
            return reply
        if command == "edit" and expected.changes and body["courier_service"] == order.courier_service:
            pass  # §8: an edit that changes nothing is "200, unchanged" and writes nothing
        elif command == "edit" and expected.changes:
            order.courier_service = body["courier_service"]
            by = f"seller:{self.seller_id(seller)}"
            order.changes.append(Change(expected.event, by, order.status, ["courier_service"]))
        elif expected.changes:
            by = f"seller:{self.seller_id(seller)}" if seller else "warehouse"
            order.state = next_state(order.state, command)
            order.changes.append(Change(expected.event, by, order.status))
            if command in WAREHOUSE_COMMANDS[2:] and body.get("tracking_number"):
                order.tracking_number = body["tracking_number"]
            if expected.event in NOTIFIED:
                self.expected_events.append((f"{order_id}:{len(order.changes)}", expected.event, order.state))
        self.check_order(reply.body, order)
        return reply

    def assert_not_found(self, reply: Reply) -> None:
        assert reply.status == 404, reply.body
        assert reply.headers["Content-Type"] == "application/problem+json"
        assert reply.body["code"] == "ORDER_NOT_FOUND"
        assert set(reply.body) == {"type", "title", "status", "code", "detail"}

    def check_order(self, body: dict[str, Any], order: ModelOrder) -> None:
        self.figures.add("invariant_checks")
        assert (body["order_id"], body["seller_id"], body["reference"]) == (
            order.order_id,
            order.owner,
            order.reference,
        )
        assert state_name(body) == order.state
        assert (body["cancellation"]["option"], body["cancellation"]["unavailable_reason"]) == BUTTON[order.state]
        assert (body["editing"]["option"], body["editing"]["unavailable_reason"]) == EDITING[order.state]
        assert body["courier_service"] == order.courier_service
        assert body["version"] == len(order.changes)
        assert body["tracking_number"] == order.tracking_number
        if "history" not in body:
            return
        history = body["history"]
        assert [(e["event"], e["by"], e["to_status"], e.get("changed")) for e in history] == [
            (c.event, c.by, c.to_status, c.changed) for c in order.changes
        ]
        assert [e["from_status"] for e in history] == [None] + [c.to_status for c in order.changes[:-1]]
        assert body["updated_at"] == history[-1]["at"] and body["created_at"] == history[0]["at"]

    # -- after every step --------------------------------------------------------------------

    @invariant()
    def the_orders_touched_are_stored_as_the_model_says(self) -> None:
        """The order a step named, as stored: a refused command or another seller changed nothing.
        (Every order in full at the end of each sequence, in teardown.)"""
        touched, self.touched = self.touched, set()
        if not touched:
            return
        keys = [{"order_id": {"S": order_id}} for order_id in touched]
        projection = "order_id, seller_id, version, #status, cancellation_request.#status"
        request = {"Keys": keys, "ProjectionExpression": projection, "ExpressionAttributeNames": {"#status": "status"}}
        table = os.environ["TABLE_NAME"]
        response = self.dynamodb.batch_get_item(RequestItems={table: {**request, "ConsistentRead": True}})
        assert not response["UnprocessedKeys"]
        stored = {item["order_id"]["S"]: item for item in response["Responses"][table]}
        assert stored.keys() == touched
        for order_id, item in stored.items():
            self.figures.add("invariant_checks")
            order = self.model[order_id]
            request_status = item.get("cancellation_request", {}).get("M", {}).get("status", {}).get("S", "-")
            assert f"{item['status']['S']}/{request_status}" == order.state
            assert (item["seller_id"]["S"], int(item["version"]["N"])) == (order.owner, len(order.changes))

    def teardown(self) -> None:
        """At the end of each sequence, every order in full, as its seller reads it."""
        for order in self.model.values():
            reply = invoke(
                "GET", "/orders/{order_id}", path_parameters={"order_id": order.order_id}, seller_id=order.owner
            )
            assert reply.status == 200
            self.check_order(reply.body, order)

    @invariant()
    def the_stream_published_exactly_the_models_events(self) -> None:
        delivered = self.notifications.deliver()
        expected, self.expected_events = self.expected_events, []
        assert [d.event["event_id"] for d in delivered] == [event_id for event_id, _, _ in expected]
        for message, (event_id, event_type, state) in zip(delivered, expected, strict=True):
            self.figures.add("events_checked")
            order = self.model[event_id.split(":")[0]]
            event = message.event
            assert event["event_type"] == event_type and message.attributes == {
                "event_type": event_type,
                "seller_id": order.owner,
            }
            assert (event["order_id"], event["seller_id"], event["reference"]) == (
                order.order_id,
                order.owner,
                order.reference,
            )
            assert event["order_version"] == int(event_id.split(":")[1])
            assert state_name(event) == state
            assert (event["cancellation"]["option"], event["cancellation"]["unavailable_reason"]) == BUTTON[state]


def test_random_command_sequences_agree_with_the_contract(notification_channels, figures):
    OrdersMachine.notifications = Notifications.start(notification_channels)
    OrdersMachine.figures = figures
    OrdersMachine.dynamodb = boto3.client("dynamodb")
    OrdersMachine.cells = set()
    run_state_machine_as_test(
        OrdersMachine,
        settings=settings(
            max_examples=20 * SCALE,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
    figures.note("stateful_contract_cells_covered", f"{len(OrdersMachine.cells)} of {len(CONTRACT)}")


def test_the_model_covers_every_state():
    """The model can only be as good as its table: every state of §2 is reachable in it."""
    reached, frontier = {"PENDING/-"}, ["PENDING/-"]
    while frontier:
        state = frontier.pop()
        for command in SELLER_COMMANDS + WAREHOUSE_COMMANDS:
            if CONTRACT[state, command].changes and next_state(state, command) not in reached:
                reached.add(next_state(state, command))
                frontier.append(next_state(state, command))
    assert reached == set(STATES)
