"""Many sellers and the warehouse at once against the local stack, then an audit of every order.

For LOAD_SECONDS, seller threads create orders, cancel them, request cancellations, re-send
creates and commands, read and list; warehouse threads move orders forward and decide
requests; racer threads set up an order and fire two or three conflicting commands at it at
the same instant (a barrier), from different callers. Every answer is kept. Then, for every
order the load touched:

- its history replays under the contract's table (tests/support/contract.py) from
  ORDER_CREATED to the stored status and request, one version per entry;
- every 2xx answer's order is a prefix of that history (no update was lost or rewritten),
  every 409 is the contract's answer in some state the order went through;
- each race round's answers are those of one serial order of its commands, and the history
  holds exactly that order's changes;
- the events published (GET /_local/notifications per seller, and the warehouse's SNS-
  subscribed queue) are exactly the history's §4 events, each once, fields as the history says.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from tests.hardening.harness import SCALE
from tests.hardening.wire import Wire, seller, warehouse
from tests.support.commands import SELLER_COMMANDS, http_call, method_of, state_name
from tests.support.contract import COMMANDS, CONTRACT, PATHS, next_state, serially
from tests.support.local_stack import order_body

pytestmark = pytest.mark.e2e

LOAD_SECONDS = 20 * SCALE
SELLERS = 6
WAREHOUSES = 2
RACERS = 2
NOTIFIED = {"ORDER_CANCELLED", "CANCELLATION_REQUESTED", "CANCELLATION_APPROVED", "CANCELLATION_REJECTED"}
RACES = [
    ("PENDING/-", ("cancel", "SENT_TO_WAREHOUSE")),
    ("PACKED/REQUESTED", ("approve", "DESPATCHED")),
    ("PICKED/REQUESTED", ("approve", "reject")),
    ("SENT_TO_WAREHOUSE/-", ("request", "DESPATCHED", "cancel")),
    ("PACKED/REQUESTED", ("reject", "DESPATCHED", "approve")),
    ("PICKED/-", ("request", "request")),
    ("PENDING/-", ("cancel", "cancel")),
    ("PICKED/REQUESTED", ("request", "approve", "PACKED")),
]


@dataclass
class Answer:
    order_id: str
    command: str  # a contract command, or "read" / "create"
    status: int
    body: Any


@dataclass
class Round:
    order_id: str
    start: str
    commands: tuple[str, ...]
    answers: list[tuple[int, str | None]] = field(default_factory=list)


class Load:
    """What the load did: every answer, every race round, the orders and their sellers."""

    def __init__(self, api_url: str):
        self.api_url = api_url
        self.deadline = time.monotonic() + LOAD_SECONDS
        self.lock = threading.Lock()
        self.answers: list[Answer] = []
        self.rounds: list[Round] = []
        self.owners: dict[str, str] = {}  # order id -> seller id
        self.shared: list[str] = []  # orders the warehouse threads may act on
        self.wires: list[Wire] = []
        self.errors: list[str] = []

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def wire(self) -> Wire:
        wire = Wire()
        with self.lock:
            self.wires.append(wire)
        return wire

    def keep(self, order_id: str, command: str, response: Any) -> Answer:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        answer = Answer(order_id, command, response.status_code, body)
        with self.lock:
            self.answers.append(answer)
        return answer


def send(portal, depot, order_id: str, command: str) -> Any:
    """A contract command over HTTP, as its rightful caller sends it."""
    if command in SELLER_COMMANDS:
        resource, body, _ = http_call(command)
        return portal.request(method_of(command), resource.replace("{order_id}", order_id), body)
    if command in ("approve", "reject"):
        return depot.decide(order_id, "APPROVED" if command == "approve" else "REJECTED", "ALREADY_PACKED")
    return depot.move(order_id, command)


def guarded(load: Load, work) -> None:
    try:
        work()
    except Exception as error:  # a broken connection or a timeout is a finding too
        with load.lock:
            load.errors.append(f"{type(error).__name__}: {error}")


def callers(load: Load, sellers: int = 1, warehouses: int = 1, seller_id: str | None = None) -> tuple[list, list]:
    """Sellers (each a new one, or all `seller_id`) and warehouse callers on one new Wire.

    Made before the threads start: the local user pool (moto's Cognito) is not safe to sign
    sellers in from several threads at once (see docs/reliability.md).
    """
    wire = load.wire()
    portals = [seller(load.api_url, wire, seller_id) for _ in range(sellers)]
    return portals, [warehouse(load.api_url, wire) for _ in range(warehouses)]


def seller_traffic(load: Load, number: int, portal: Any, depot: Any) -> None:
    rng = random.Random(number)
    mine: list[str] = []
    references: list[str] = []
    while load.running():
        roll = rng.random()
        if not mine or (roll < 0.25 and len(mine) < 40):
            reference = f"LOAD-{number}-{len(references)}"
            response = portal.request("POST", "/orders", order_body(reference))
            answer = load.keep("", "create", response)
            if answer.status == 201:
                order_id = answer.body["order_id"]
                references.append(reference)
                mine.append(order_id)
                with load.lock:
                    load.owners[order_id] = portal.seller_id
                    load.shared.append(order_id)
        elif roll < 0.3:
            reference = rng.choice(references)  # the same create again: the existing order, 200
            load.keep("", "create again", portal.request("POST", "/orders", order_body(reference)))
        elif roll < 0.65:
            order_id = rng.choice(mine)
            command = rng.choice(["cancel", "request"])
            load.keep(order_id, command, send(portal, depot, order_id, command))
        elif roll < 0.85:
            order_id = rng.choice(mine)
            load.keep(order_id, "read", portal.request("GET", f"/orders/{order_id}"))
        else:
            load.keep("", "list", portal.request("GET", "/orders?limit=50"))


def warehouse_traffic(load: Load, number: int, depot: Any) -> None:
    rng = random.Random(1000 + number)
    weights = {"SENT_TO_WAREHOUSE": 5, "PICKED": 3, "PACKED": 3, "DESPATCHED": 2, "approve": 2, "reject": 2}
    while load.running():
        with load.lock:
            order_id = rng.choice(load.shared) if load.shared else None
        if order_id is None:
            time.sleep(0.05)
            continue
        command = rng.choices(list(weights), list(weights.values()))[0]
        load.keep(order_id, command, send(None, depot, order_id, command))


def racer(load: Load, number: int, portal: Any, depot: Any, racing: list[tuple[Any, Any]]) -> None:
    """Race rounds: an order in a state, then conflicting commands from different threads at once."""
    scenarios = itertools.cycle(RACES[number::RACERS] + RACES[:number])
    while load.running():
        start, commands = next(scenarios)
        order_id = portal.create_order()["order_id"]
        with load.lock:
            load.owners[order_id] = portal.seller_id
        for command in PATHS[start]:
            assert send(portal, depot, order_id, command).status_code in (200, 202)
        barrier = threading.Barrier(len(commands))
        answers: list[Any] = [None] * len(commands)

        def fire(index: int, command: str, barrier=barrier, answers=answers, order_id=order_id) -> None:
            own_portal, own_depot = racing[index]
            barrier.wait(timeout=10)
            answers[index] = send(own_portal, own_depot, order_id, command)

        threads = [threading.Thread(target=fire, args=(i, c)) for i, c in enumerate(commands)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        round_ = Round(order_id, start, commands)
        for command, response in zip(commands, answers, strict=True):
            answer = load.keep(order_id, command, response)
            round_.answers.append((answer.status, answer.body.get("code") if answer.status == 409 else None))
        with load.lock:
            load.rounds.append(round_)


# -- the audit -------------------------------------------------------------------------------------


def replay(history: list[dict[str, Any]], owner: str) -> tuple[list[str], list[str | None]]:
    """The states an order went through, by the contract, from its history; raises if a change is not a rule's."""
    first = history[0]
    assert (first["event"], first["to_status"], first["by"]) == ("ORDER_CREATED", "PENDING", f"seller:{owner}"), first
    states, commands = ["PENDING/-"], [None]
    for entry in history[1:]:
        state = states[-1]
        fits = {
            next_state(state, command)
            for command in COMMANDS
            if CONTRACT[state, command].event == entry["event"]
            and next_state(state, command).split("/")[0] == entry["to_status"]
            and entry["by"] == (f"seller:{owner}" if command in SELLER_COMMANDS else "warehouse")
        }
        assert len(fits) == 1, f"{entry} cannot follow {state}"
        states.append(fits.pop())
        commands.append(entry["event"])
    return states, commands


def serial(start: str, commands: tuple[str, ...]) -> tuple[list[tuple[int, str | None]], list[str]]:
    answers, events, _ = serially(start, commands)
    return [(answer.http_status, answer.code) for answer in answers], events


def audit(load: Load, local_stack: Any, figures: Any) -> list[str]:
    """Every violation found, as text; an empty list when the load left everything as the contract says."""
    violations: list[str] = []
    wire = Wire()
    sellers = sorted(set(load.owners.values()))
    portals = {seller_id: seller(load.api_url, wire, seller_id) for seller_id in sellers}
    final: dict[str, dict[str, Any]] = {}
    paths: dict[str, list[str]] = {}

    # Each order: its history replays under the contract to its stored state.
    for order_id, owner in load.owners.items():
        order = portals[owner].request("GET", f"/orders/{order_id}").json()
        final[order_id] = order
        figures.add("load_orders_audited")
        try:
            states, _ = replay(order["history"], owner)
            stored = state_name(order)
            assert states[-1] == stored, f"history ends in {states[-1]}, order is {stored}"
            assert order["version"] == len(order["history"])
            paths[order_id] = states
        except AssertionError as error:
            violations.append(f"{order_id}: {error}")
        figures.add("invariant_checks")

    # Every answer: a 2xx order is a prefix of the final history; a 409 is the contract's in a state it went through.
    for answer in load.answers:
        if answer.status >= 500 or answer.status == 404:
            violations.append(f"{answer.command} on {answer.order_id or '-'}: {answer.status} {str(answer.body)[:200]}")
            continue
        order_id = answer.order_id or (answer.body.get("order_id") if isinstance(answer.body, dict) else "")
        if order_id not in final or answer.command in ("list",):
            continue
        figures.add("invariant_checks")
        history = final[order_id]["history"]
        if answer.status < 300:
            if answer.body["history"] != history[: len(answer.body["history"])]:
                violations.append(f"{answer.command} on {order_id}: answered an order that is not in its history")
        elif answer.status == 409 and order_id in paths:
            code = answer.body.get("code")
            if not any(CONTRACT[state, answer.command].code == code for state in paths[order_id]):
                violations.append(f"{answer.command} on {order_id}: 409 {code} fits no state it went through")
        elif answer.status != 409:
            violations.append(f"{answer.command} on {order_id}: {answer.status} {str(answer.body)[:200]}")

    # Every race round: one serial order explains the answers and the changes.
    for round_ in load.rounds:
        figures.add("race_rounds")
        figures.add("invariant_checks")
        prefix = len(PATHS[round_.start]) + 1
        events = [entry["event"] for entry in final[round_.order_id]["history"][prefix:]]
        fits = [
            order
            for order in set(itertools.permutations(range(len(round_.commands))))
            if serial(round_.start, tuple(round_.commands[i] for i in order))
            == ([round_.answers[i] for i in order], events)
        ]
        if not fits:
            violations.append(
                f"race {round_.start} {round_.commands} on {round_.order_id}: {round_.answers} {events}: "
                f"no serial order"
            )

    # Every event: told once, to its seller, as the history says; the warehouse told of every request once.
    expected = {
        f"{order_id}:{version}": (entry, order)
        for order_id, order in final.items()
        for version, entry in enumerate(order["history"], start=1)
        if entry["event"] in NOTIFIED
    }
    told: Counter[str] = Counter()
    deadline = time.monotonic() + 30
    while True:
        told.clear()
        notifications = {s: portals[s].notifications() for s in sellers}
        for bodies in notifications.values():
            told.update(body["event_id"] for body in bodies)
        if set(told) >= set(expected) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for seller_id, bodies in notifications.items():
        for body in bodies:
            figures.add("events_checked")
            entry, order = expected.get(body["event_id"], (None, None))
            if entry is None:
                violations.append(f"{body['event_id']} told but not in any history")
                continue
            if (body["event_type"], body["seller_id"], body["status"], body["order_version"]) != (
                entry["event"],
                seller_id,
                entry["to_status"],
                int(body["event_id"].split(":")[1]),
            ):
                violations.append(
                    f"{body['event_id']} told as {body['event_type']} {body['status']}, history says {entry}"
                )
    violations += [f"{event_id} never told" for event_id in expected.keys() - told.keys()]
    violations += [f"{event_id} told {count} times" for event_id, count in told.items() if count > 1]

    requested = {event_id for event_id, (entry, _) in expected.items() if entry["event"] == "CANCELLATION_REQUESTED"}
    at_warehouse = warehouse_queue(local_stack, set(sellers))
    figures.add("events_checked", len(at_warehouse))
    if sorted(at_warehouse) != sorted(requested):
        violations.append(f"the warehouse queue holds {len(at_warehouse)} requests, the histories {len(requested)}")
    wire.assert_clean()
    return violations


def warehouse_queue(local_stack: Any, sellers: set[str]) -> list[str]:
    """The event ids of the CANCELLATION_REQUESTED messages the warehouse's queue received for these sellers."""
    sqs = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name="eu-west-2"
    ).client("sqs", endpoint_url=local_stack.aws_url)
    [url] = [u for u in sqs.list_queues().get("QueueUrls", []) if u.endswith("-WarehouseQueue")]
    found: list[str] = []
    for _ in range(1000):  # bounded: a few hundred messages at most
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            break
        for message in messages:
            event = json.loads(message["Body"])
            assert event["event_type"] == "CANCELLATION_REQUESTED"
            if event["seller_id"] in sellers:
                found.append(event["event_id"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_concurrent_sellers_and_warehouse_leave_every_order_as_the_contract_says(local_stack, figures):
    load = Load(local_stack.api_url)
    workers = []
    for n in range(SELLERS):
        [portal], [depot] = callers(load)
        workers.append(
            threading.Thread(target=guarded, args=(load, lambda n=n, p=portal, d=depot: seller_traffic(load, n, p, d)))
        )
    for n in range(WAREHOUSES):
        _, [depot] = callers(load, sellers=0)
        workers.append(
            threading.Thread(target=guarded, args=(load, lambda n=n, d=depot: warehouse_traffic(load, n, d)))
        )
    for n in range(RACERS):
        [portal], [depot] = callers(load)
        racing = [callers(load, seller_id=portal.seller_id) for _ in range(3)]
        racing = [(portals[0], depots[0]) for portals, depots in racing]
        workers.append(
            threading.Thread(
                target=guarded, args=(load, lambda n=n, p=portal, d=depot, r=racing: racer(load, n, p, d, r))
            )
        )
    load.deadline = time.monotonic() + LOAD_SECONDS
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=LOAD_SECONDS + 60)
    elapsed = time.monotonic() - started
    assert not any(worker.is_alive() for worker in workers)

    requests = sum(wire.answers for wire in load.wires)
    figures.add("load_requests", requests)
    figures.note(
        "load",
        f"{requests} requests in {elapsed:.1f} s ({requests / elapsed:.0f}/s), {len(load.owners)} orders, "
        f"{SELLERS} sellers, {WAREHOUSES} warehouse threads, {RACERS} racers",
    )
    statuses = Counter(answer.status for answer in load.answers)
    figures.note("load answers", dict(sorted(statuses.items())))
    assert load.errors == [], load.errors[:5]
    for wire in load.wires:
        wire.assert_clean()
    assert len(load.rounds) >= 5 and len(load.owners) >= 20, (len(load.rounds), len(load.owners))

    violations = audit(load, local_stack, figures)
    figures.add("invariant_violations", len(violations))
    assert violations == [], violations[:20]


def test_the_audit_is_not_blind():
    """The auditor itself: a history the rules cannot make, and race answers no serial order gives, are caught."""
    created = {"at": "t0", "event": "ORDER_CREATED", "from_status": None, "to_status": "PENDING", "by": "seller:S"}
    approved = {
        "at": "t1",
        "event": "CANCELLATION_APPROVED",
        "from_status": "PENDING",
        "to_status": "CANCELLED",
        "by": "warehouse",
    }
    with pytest.raises(AssertionError):
        replay([created, approved], "S")
    cancelled = {**approved, "event": "ORDER_CANCELLED", "by": "seller:S"}
    assert replay([created, cancelled], "S")[0] == ["PENDING/-", "CANCELLED/-"]
    with pytest.raises(AssertionError):
        replay([created, {**cancelled, "by": "seller:OTHER"}], "S")
    # Both racers winning is no serial order's outcome; one winning is.
    both_won = [(200, None), (200, None)]
    assert serial("PENDING/-", ("cancel", "SENT_TO_WAREHOUSE")) != (both_won, ["ORDER_CANCELLED", "STATUS_CHANGED"])
    assert serial("PENDING/-", ("cancel", "SENT_TO_WAREHOUSE")) == (
        [(200, None), (409, "ORDER_CANCELLED")],
        ["ORDER_CANCELLED"],
    )
