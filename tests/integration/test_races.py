"""Two callers racing on one order, with real threads against moto: exactly one wins.

moto's item writes are made atomic (infra/local/moto_dynamodb.py), as DynamoDB's are; everything
else (the conditions, the refusals read off the old item) is the store's own.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from orders.domain import WAREHOUSE, Action, Details, Seller
from orders.store import OrderStore, PreconditionFailed, RefusalError
from tests.support import commands
from tests.support.api import NEW_ORDER
from tests.support.commands import ACTIONS, SELLER_COMMANDS, details_for
from tests.support.contract import CONTRACT, PATHS, serially

ORDERS_PER_RACE = 30
SELLER = Seller("S-1")


@pytest.fixture
def store(aws):
    return OrderStore()


@pytest.fixture(autouse=True)
def _eager_switching(eager_thread_switching):
    """Every race here switches threads eagerly."""


def send(store: OrderStore, order_id: str, command: str):
    """The contract's answer to `command` as (status, code), from the store's own outcome."""
    caller = SELLER if command in SELLER_COMMANDS else WAREHOUSE
    details = details_for(command)
    try:
        applied = store.apply(order_id, ACTIONS[command], caller, details)
    except RefusalError as refusal:
        return 409, refusal.refusal.value
    return (202 if command == "request" else 200), getattr(applied.outcome, "event", None)


def order_in(store: OrderStore, state_name: str, reference: str) -> str:
    order, _ = store.create("S-1", {"reference": reference, **NEW_ORDER})
    for command in PATHS[state_name]:
        assert send(store, order["order_id"], command)[0] in (200, 202)
    return order["order_id"]


def race(store: OrderStore, state_name: str, first: str, second: str) -> list[tuple]:
    """Both commands at once on many orders in `state_name`; returns (order_id, answers) per order."""
    order_ids = [order_in(store, state_name, f"{first}-{second}-{n}") for n in range(ORDERS_PER_RACE)]
    results, jitter = [], random.Random(7)
    with ThreadPoolExecutor(max_workers=2) as pool:
        for order_id in order_ids:
            start = threading.Barrier(2)

            def go(command, order_id=order_id, start=start):
                start.wait()
                time.sleep(jitter.uniform(0, 0.01))  # so that either may get in first
                return send(store, order_id, command)

            answers = [pool.submit(go, first), pool.submit(go, second)]
            results.append((order_id, [future.result() for future in answers]))
    return results


def history_after(store: OrderStore, order_id: str) -> list[str]:
    return [entry["event"] for entry in store.get(order_id, WAREHOUSE)["history"]]


def serial_outcome(state_name: str, commands: tuple[str, str]):
    """What the contract answers when the two commands arrive one after the other in this order."""
    answers, events, state = serially(state_name, commands)
    by_command = {
        command: (answer.http_status, answer.code if answer.http_status == 409 else answer.event)
        for command, answer in zip(commands, answers, strict=True)
    }
    return by_command, events, state


def linearise(state_name: str, first: str, second: str, answers: list[tuple]) -> tuple[str, ...]:
    """The order in which the two commands took effect, as the answers show it: exactly one must fit."""
    fits = []
    for order in ((first, second), (second, first)):
        expected, _, _ = serial_outcome(state_name, order)
        if [expected[first], expected[second]] == answers:
            fits.append(order)
    assert fits, f"{first} and {second} on {state_name} answered {answers}: no serial order explains that"
    return fits[0]


@pytest.mark.parametrize(
    "state_name, first, second",
    [
        ("PENDING/-", "cancel", "SENT_TO_WAREHOUSE"),
        ("PACKED/REQUESTED", "approve", "DESPATCHED"),
        ("PICKED/REQUESTED", "approve", "reject"),
        ("SENT_TO_WAREHOUSE/-", "request", "DESPATCHED"),
        ("PACKED/REQUESTED", "reject", "DESPATCHED"),
        ("PENDING/-", "edit", "SENT_TO_WAREHOUSE"),
        ("PENDING/-", "edit", "cancel"),
    ],
)
def test_racing_commands_act_as_if_one_came_first(store, state_name, first, second):
    """Exactly one winner: the loser gets the answer the winner's state implies, history one entry per change."""
    winners = {first: 0, second: 0}
    for order_id, answers in race(store, state_name, first, second):
        order = linearise(state_name, first, second, answers)
        winners[order[0]] += 1
        _, events, final_state = serial_outcome(state_name, order)
        stored = store.get(order_id, WAREHOUSE)
        assert commands.state_name(stored) == final_state
        assert history_after(store, order_id)[len(PATHS[state_name]) + 1 :] == events
        assert stored["version"] == len(PATHS[state_name]) + 1 + len(events)
    print(f"{state_name} {first} vs {second}: first to win {winners}")


@pytest.mark.parametrize(
    "state_name, command", [("PICKED/-", "request"), ("PENDING/-", "cancel"), ("PACKED/REQUESTED", "approve")]
)
def test_duplicate_commands_change_the_order_once(store, state_name, command):
    for order_id, answers in race(store, state_name, command, command):
        expected = CONTRACT[state_name, command]
        assert [status for status, _ in answers] == [expected.http_status] * 2
        history = history_after(store, order_id)
        assert history[len(PATHS[state_name]) + 1 :] == [expected.event]


def test_two_edits_of_the_same_version_have_one_winner_and_one_412(store):
    """Two tabs edit what they both read as version 1: one edit is written, the other is told to read again."""
    outcomes = {"edited": 0, "precondition failed": 0}
    for number in range(ORDERS_PER_RACE):
        order_id = order_in(store, "PENDING/-", f"TWO-TABS-{number}")
        start = threading.Barrier(2)

        def edit(courier: str, order_id: str = order_id, start: threading.Barrier = start) -> str:
            details = Details(changes={"courier_service": courier}, expected_versions=frozenset({1}))
            start.wait()
            try:
                store.apply(order_id, Action.EDIT, SELLER, details)
            except PreconditionFailed as failed:
                assert failed.order["version"] == 2  # the winner's version
                return "precondition failed"
            return "edited"

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = sorted(pool.map(edit, ["DPD_NEXT_DAY", "EVRI_48"]))
        assert answers == ["edited", "precondition failed"]
        stored = store.get(order_id, WAREHOUSE)
        assert stored["version"] == 2 and [entry["event"] for entry in stored["history"]][-1] == "ORDER_EDITED"
        for answer in answers:
            outcomes[answer] += 1
    assert outcomes == {"edited": ORDERS_PER_RACE, "precondition failed": ORDERS_PER_RACE}
