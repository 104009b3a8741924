"""Faults between the functions and AWS: throttling, lost responses, a Lambda killed after its write.

DynamoDB faults are injected on the network, at the functions' own client: its endpoint is a
loopback server (harness.FaultyEndpoint) in front of in-process moto, so the SDK's standard
retry mode with 3 attempts, as orders/settings.py configures it, sees real HTTP answers and
retries them itself (with its real backoff).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.hardening.harness import Fault, Notifications, Script, expected_events, faulty, table_items
from tests.support.api import Reply, SellerPortal
from tests.support.commands import state_name
from tests.support.contract import CONTRACT, next_state

SELLER = "S-1"


@pytest.fixture
def portal(aws):
    return SellerPortal(SELLER)


@pytest.fixture
def notifications(notification_channels):
    return Notifications.start(notification_channels)


@dataclass(frozen=True)
class Route:
    """One call of the API: the order it needs (a state of §2, or none) and how to send it."""

    name: str
    state: str | None
    operation: str  # the DynamoDB operation it makes
    success: int
    send: Callable[[SellerPortal, str | None], Reply]
    command: str | None = None  # the contract's command, for routes that change an order

    @property
    def writes(self) -> bool:
        return self.operation in ("PutItem", "UpdateItem")


def _command(command: str) -> Callable[[SellerPortal, str | None], Reply]:
    return lambda portal, order_id: portal.send(command, order_id)


ROUTES = [
    Route("POST /orders", None, "PutItem", 201, lambda portal, _: portal.create("FAULT-NEW")),
    Route("GET /orders", "PENDING/-", "Query", 200, lambda portal, _: portal.list()),
    Route("GET /orders/{id}", "PENDING/-", "GetItem", 200, lambda portal, order_id: portal.get(order_id)),
    Route("cancel", "PENDING/-", "UpdateItem", 200, _command("cancel"), "cancel"),
    Route("cancellation-request", "PICKED/-", "UpdateItem", 202, _command("request"), "request"),
    Route("decision APPROVED", "PICKED/REQUESTED", "UpdateItem", 200, _command("approve"), "approve"),
    Route("decision REJECTED", "PACKED/REQUESTED", "UpdateItem", 200, _command("reject"), "reject"),
    Route("status PICKED", "SENT_TO_WAREHOUSE/-", "UpdateItem", 200, _command("PICKED"), "PICKED"),
    # Two writes: the plain move is refused by its condition, then the move that rejects the request.
    Route(
        "status DESPATCHED over a request", "PACKED/REQUESTED", "UpdateItem", 200, _command("DESPATCHED"), "DESPATCHED"
    ),
]
COMMAND_ROUTES = [route for route in ROUTES if route.writes]


def prepare(portal: SellerPortal, route: Route) -> dict[str, Any] | None:
    return portal.order_in(route.state, f"FAULT-{route.name}") if route.state else None


def assert_problem(reply: Reply, status: int, code: str) -> None:
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.body["code"] == code and reply.body["status"] == status
    assert "Traceback" not in json.dumps(reply.body) and "botocore" not in json.dumps(reply.body)


def assert_changed_once(portal: SellerPortal, route: Route, before: dict[str, Any] | None, reply: Reply) -> dict:
    """The answer is the contract's success, and the order holds exactly one change more (or is new)."""
    assert reply.status < 300, reply.body
    if before is None:  # created
        stored = portal.get(reply.body["order_id"]).body
        assert reply.body == stored and [e["event"] for e in stored["history"]] == ["ORDER_CREATED"]
        return stored
    stored = portal.get(before["order_id"]).body
    if route.command is None:  # a read
        assert stored == before
        return stored
    expected = CONTRACT[state_name(before), route.command]
    assert reply.status == expected.http_status and reply.body == stored
    assert state_name(stored) == next_state(state_name(before), route.command)
    assert stored["version"] == before["version"] + 1
    assert stored["history"][:-1] == before["history"] and stored["history"][-1]["event"] == expected.event
    return stored


# -- throttling ----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_throttling_that_outlasts_the_sdks_retries_is_503_and_changes_nothing(portal, monkeypatch, route, figures):
    # Given an order, and a DynamoDB that throttles everything for longer than the SDK retries
    before = prepare(portal, route)
    snapshot = table_items()
    with faulty("dynamodb", Script([Fault.THROTTLE] * 10), monkeypatch) as dynamodb:
        # When the route is called
        reply = route.send(portal, before["order_id"] if before else None)

    # Then 503 with Retry-After after the SDK's 3 attempts (standard mode), and nothing changed
    assert_problem(reply, 503, "SERVICE_UNAVAILABLE")
    assert reply.headers["Retry-After"] == "1"
    assert dynamodb.operations() == [route.operation] * 3
    assert table_items() == snapshot
    figures.add("fault_scenarios")
    figures.add("faults_injected", 3)


@pytest.mark.parametrize("throttles", [1, 2])
@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.name)
def test_throttling_that_clears_within_the_sdks_retries_is_invisible(portal, monkeypatch, route, throttles, figures):
    # Given DynamoDB throttles the next 1 or 2 requests, then recovers
    before = prepare(portal, route)
    with faulty("dynamodb", Script([Fault.THROTTLE] * throttles), monkeypatch) as dynamodb:
        reply = route.send(portal, before["order_id"] if before else None)

    # Then the SDK's own retries succeed: the contract's answer, one change, no more requests than needed
    assert_changed_once(portal, route, before, reply)
    assert dynamodb.faults() == {Fault.THROTTLE: throttles}
    assert dynamodb.operations()[: throttles + 1] == [route.operation] * (throttles + 1)
    figures.add("fault_scenarios")
    figures.add("faults_injected", throttles)


def test_a_throttled_second_write_of_a_despatch_is_retried_by_the_sdk(portal, monkeypatch, figures):
    # Given an order with a pending request: the despatch takes two writes; the second is throttled twice
    before = portal.order_in("PACKED/REQUESTED", "FAULT-second-write")
    script = Script([Fault.PASS, Fault.THROTTLE, Fault.THROTTLE], operations=frozenset({"UpdateItem"}))
    with faulty("dynamodb", script, monkeypatch) as dynamodb:
        reply = portal.send("DESPATCHED", before["order_id"])

    # Then the despatch rejects the request, once
    route = next(r for r in ROUTES if r.name == "status DESPATCHED over a request")
    stored = assert_changed_once(portal, route, before, reply)
    assert stored["cancellation"]["request"]["decision_reason_code"] == "ORDER_DESPATCHED"
    assert dynamodb.operations() == ["UpdateItem"] * 4
    figures.add("fault_scenarios")
    figures.add("faults_injected", 2)


# -- lost responses ------------------------------------------------------------------------------


@pytest.mark.parametrize("route", COMMAND_ROUTES, ids=lambda route: route.name)
def test_a_write_whose_response_is_lost_is_retried_without_a_second_effect(
    portal, notifications, monkeypatch, route, figures
):
    # Given DynamoDB applies the write but the connection drops before its answer arrives
    before = prepare(portal, route)
    notifications.deliver()
    # The despatch's first write is refused by its condition; lose the answer of the one that takes effect.
    faults = (
        [Fault.PASS, Fault.APPLY_AND_DROP] if route.name.startswith("status DESPATCHED") else [Fault.APPLY_AND_DROP]
    )
    with faulty("dynamodb", Script(faults, operations=frozenset({route.operation})), monkeypatch) as dynamodb:
        reply = route.send(portal, before["order_id"] if before else None)

    # Then the SDK's retry finds the write done, and the answer is the contract's success ("200, unchanged")
    if before is None:
        assert reply.status == 200  # the create's retry finds the order: 200 with it, never a duplicate
    stored = assert_changed_once(portal, route, before, reply)
    assert dynamodb.faults() == {Fault.APPLY_AND_DROP: 1}
    # And the change was published once
    new_events = expected_events(stored)[len(expected_events(before)) if before else 0 :]
    assert [d.event["event_id"] for d in notifications.deliver()] == [event_id for event_id, _ in new_events]
    figures.add("fault_scenarios")
    figures.add("faults_injected")


def test_when_every_attempt_loses_its_response_the_answer_is_500_and_a_retry_is_safe(portal, monkeypatch, figures):
    # Given every attempt of the cancel's write is applied (the first takes effect) and every answer lost
    before = portal.order_in("PENDING/-", "FAULT-all-lost")
    with faulty("dynamodb", Script([Fault.APPLY_AND_DROP] * 3), monkeypatch):
        reply = portal.send("cancel", before["order_id"])

    # Then the function cannot know whether it took effect: 500 without internals, not the 503 "nothing changed"
    assert_problem(reply, 500, "INTERNAL_ERROR")
    assert reply.body["detail"] == "Something went wrong on our side."
    # And the client's retry gets "200, unchanged": one change in all
    retry = portal.send("cancel", before["order_id"])
    route = next(r for r in ROUTES if r.name == "cancel")
    assert_changed_once(portal, route, before, retry)
    figures.add("fault_scenarios")
    figures.add("faults_injected", 3)


# -- a Lambda killed between its write and its answer --------------------------------------------


class LambdaTimedOut(BaseException):
    """The runtime killed at its timeout: nothing in the function can catch it."""


@pytest.mark.parametrize("route", COMMAND_ROUTES, ids=lambda route: route.name)
def test_a_lambda_timeout_after_the_write_then_the_clients_retry_has_one_effect(portal, notifications, route, figures):
    # Given an order, and a function that is killed as soon as its write has succeeded
    from orders.settings import dynamodb

    before = prepare(portal, route)
    notifications.deliver()
    killed = []

    def time_out(http_response, parsed, model, **_):
        if not killed and http_response.status_code == 200:
            killed.append(model.name)
            raise LambdaTimedOut

    dynamodb().meta.events.register(f"after-call.dynamodb.{route.operation}", time_out)

    # When the client's request dies with the function (API Gateway answers 504), and the client retries
    with pytest.raises(LambdaTimedOut):
        route.send(portal, before["order_id"] if before else None)
    assert killed == [route.operation]
    retry = route.send(portal, before["order_id"] if before else None)

    # Then the retry gets the contract's success as "unchanged", and the order changed once
    if before is None:
        assert retry.status == 200
    stored = assert_changed_once(portal, route, before, retry)
    # And the change was published once, from the stream
    new_events = expected_events(stored)[len(expected_events(before)) if before else 0 :]
    assert [d.event["event_id"] for d in notifications.deliver()] == [event_id for event_id, _ in new_events]
    figures.add("fault_scenarios")
    figures.add("faults_injected")
