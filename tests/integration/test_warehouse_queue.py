"""The warehouse's queue and the escalation sweep (docs/api.md §6), against moto.

The queue is the sparse `warehouse-queue` index that the commands' own writes keep; the sweep
reads the sparse `escalation-due` index and escalates with one conditional write each. Requests
are counted at the client, as in tests/integration/test_store.py.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta

import pytest

from infra.local.lambda_context import LambdaContext
from orders import item, settings
from orders.domain import WAREHOUSE, Action, Event, Seller
from orders.dynamodb import InvalidPageToken, timestamp
from orders.handlers import escalate_overdue, notifier
from orders.store import OrderStore, RefusalError
from tests.support.api import NEW_ORDER
from tests.support.commands import ACTIONS, SELLER_COMMANDS, details_for, state_name
from tests.support.contract import COMMANDS, PATHS, STATES
from tests.support.notifications import received, stream_poller, subscribe_queue
from tests.support.queue import copies
from tests.support.threads import run_together

SELLER = Seller("S-1")


@pytest.fixture
def store(aws):
    return OrderStore()


@pytest.fixture
def sla(monkeypatch):
    """Set the time limit new requests get (CancellationRequestSlaSeconds), in seconds."""

    def set_to(seconds: int) -> None:
        monkeypatch.setenv("CANCELLATION_REQUEST_SLA_SECONDS", str(seconds))
        settings.settings.cache_clear()  # the settings only: the client (and its counting hook) stays

    yield set_to
    settings.settings.cache_clear()


def in_warehouse(store: OrderStore, reference: str, seller: str = "S-1") -> str:
    order, _ = store.create(seller, {"reference": reference, **NEW_ORDER})
    store.apply(order["order_id"], Action.MOVE_TO_SENT_TO_WAREHOUSE, WAREHOUSE)
    return order["order_id"]


def requested(store: OrderStore, reference: str, seller: str = "S-1") -> str:
    order_id = in_warehouse(store, reference, seller)
    store.apply(order_id, Action.REQUEST_CANCELLATION, Seller(seller))
    return order_id


def whole_queue(store: OrderStore, *, overdue: bool | None = None, limit: int = 100, at: str | None = None) -> list:
    found, token = [], None
    while True:
        page = store.pending_requests(overdue=overdue, limit=limit, page_token=token, at=at)
        found += page.orders
        if page.next_token is None:
            return found
        token = page.next_token


def past_due() -> None:
    """Wait until requests made with a one-second limit are overdue."""
    time.sleep(1.1)


def later(seconds: float) -> str:
    return timestamp(datetime.now(UTC) + timedelta(seconds=seconds))


class Countdown(LambdaContext):
    """A Lambda context whose remaining time runs out after `checks` looks at it: a sweep that is cut short."""

    def __init__(self, checks: int):
        super().__init__(function_name="EscalationFunction", timeout_seconds=60)
        self.checks = checks

    def get_remaining_time_in_millis(self) -> int:
        self.checks -= 1
        return 60_000 if self.checks >= 0 else 0


def sweep(store: OrderStore, checks: int = 10**9) -> dict:
    return escalate_overdue.sweep(store, Countdown(checks))


def overdue_entries(store: OrderStore, order_id: str) -> list[dict]:
    order = store.get(order_id, WAREHOUSE)
    return [entry for entry in order["history"] if entry["event"] == Event.CANCELLATION_REQUEST_OVERDUE]


# -- the index --------------------------------------------------------------------------------


def test_after_every_command_of_the_rules_an_order_is_queued_exactly_while_its_request_is_pending(store):
    expected_in_queue = set()
    for state in STATES:
        for command in COMMANDS:
            order, _ = store.create("S-1", {"reference": f"{state}|{command}", **NEW_ORDER})
            for step in [*PATHS[state], command]:
                caller = SELLER if step in SELLER_COMMANDS else WAREHOUSE
                with contextlib.suppress(RefusalError):
                    store.apply(order["order_id"], ACTIONS[step], caller, details_for(step))
            stored = store.get(order["order_id"], WAREHOUSE)
            pending = state_name(stored).endswith("/REQUESTED")
            if pending:
                expected_in_queue.add(order["order_id"])
            # The index's keys are there exactly while the request is pending.
            assert (item.QUEUE in stored) == pending, (state, command, stored)
            assert (item.QUEUE_DUE in stored) == pending
    queued = whole_queue(store)
    assert {order["order_id"] for order in queued} == expected_in_queue
    assert expected_in_queue  # some cells leave a request pending, others take it away


@pytest.mark.parametrize("pending", [10, 1000])
def test_a_page_of_the_queue_is_one_query_and_the_pages_hold_every_request_once_most_urgent_first(
    store, dynamodb_calls, pending
):
    # Given `pending` requests (and orders in the warehouse without one, which the index leaves out)
    first = requested(store, "Q-0")
    copies(store, first, pending - 1)
    for number in range(5):
        in_warehouse(store, f"NOT-QUEUED-{number}")
    dynamodb_calls.clear()

    # When the warehouse pages through the queue
    found, token, pages = [], None, 0
    limit = 3 if pending == 10 else 100
    while True:
        before = sum(dynamodb_calls.values())
        page = store.pending_requests(overdue=None, limit=limit, page_token=token)
        assert sum(dynamodb_calls.values()) - before == 1  # one Query a page
        pages += 1
        found += page.orders
        token = page.next_token
        if token is None:
            break

    # Then every pending request once, in due order, and nothing else
    assert dynamodb_calls == {"Query": pages}
    assert pages == -(-pending // limit)
    ids = [order["order_id"] for order in found]
    assert len(ids) == len(set(ids)) == pending
    positions = [order[item.QUEUE_DUE] for order in found]
    assert positions == sorted(positions)
    dues = [order[item.REQUEST]["due_at"] for order in found]
    assert dues == sorted(dues)


def test_overdue_is_a_key_condition_on_the_due_time(store, sla):
    # Given requests due in an hour, and requests due in a few seconds
    sla(3600)
    later_ids = {requested(store, f"LATER-{n}") for n in range(4)}
    sla(1)
    soon_ids = {requested(store, f"SOON-{n}") for n in range(3)}

    # Then, seen from a minute on, the overdue part holds the second ones and the rest the first
    at = later(60)
    assert {o["order_id"] for o in whole_queue(store, overdue=True, at=at)} == soon_ids
    assert {o["order_id"] for o in whole_queue(store, overdue=False, at=at)} == later_ids
    # And seen from now, nothing is overdue
    assert whole_queue(store, overdue=True, at=later(-5)) == []


def test_a_not_overdue_page_goes_on_after_its_last_order_has_become_overdue(store, sla):
    # Given a page of not-yet-overdue requests whose last order is overdue by the time the next page is asked
    sla(30)
    ids = [requested(store, f"AGEING-{n}") for n in range(3)]
    sla(3600)
    fresh = requested(store, "FRESH")
    first = store.pending_requests(overdue=False, limit=2, page_token=None)
    assert [o["order_id"] for o in first.orders] == ids[:2]

    # When it is asked a minute later (DynamoDB refuses a start key outside the key condition)
    second = store.pending_requests(overdue=False, limit=2, page_token=first.next_token, at=later(60))

    # Then it holds what is still not overdue
    assert [o["order_id"] for o in second.orders] == [fresh]
    assert second.next_token is None


@pytest.mark.parametrize("token", ["", "bm90IGEgcG9zaXRpb24", "!!!", "MjAyNiM", "MjAyNi0xMi0wMSNvcmRfeA"])
def test_a_made_up_queue_token_is_refused(store, token):
    with pytest.raises(InvalidPageToken):
        store.pending_requests(overdue=None, limit=5, page_token=token or "=")


def test_the_due_time_is_the_request_time_plus_the_limit_in_force_when_it_was_made(store, sla):
    sla(90)
    order_id = requested(store, "DUE")
    request = store.get(order_id, WAREHOUSE)[item.REQUEST]
    requested_at = datetime.fromisoformat(request["requested_at"].replace("Z", "+00:00"))
    assert request["due_at"] == timestamp(requested_at + timedelta(seconds=90))
    assert request["escalated_at"] is None
    sla(10)  # a changed limit applies to new requests only
    assert store.get(order_id, WAREHOUSE)[item.REQUEST]["due_at"] == request["due_at"]


# -- escalation ---------------------------------------------------------------------------------


def test_a_request_is_escalated_just_after_its_due_time_and_not_just_before(store, sla, dynamodb_calls):
    sla(60)
    order_id = requested(store, "EDGE")
    due_at = store.get(order_id, WAREHOUSE)[item.REQUEST]["due_at"]
    due = datetime.fromisoformat(due_at.replace("Z", "+00:00"))
    dynamodb_calls.clear()

    assert store.escalate(order_id, at=timestamp(due - timedelta(microseconds=1))) is False
    assert store.get(order_id, WAREHOUSE)[item.REQUEST]["escalated_at"] is None
    assert store.due_for_escalation(timestamp(due - timedelta(microseconds=1)), limit=10).order_ids == []
    assert store.due_for_escalation(due_at, limit=10).order_ids == [order_id]
    assert store.escalate(order_id, at=due_at) is True
    assert dynamodb_calls == {"UpdateItem": 2, "Query": 2, "GetItem": 1}

    escalated = store.get(order_id, WAREHOUSE)
    assert escalated[item.REQUEST]["escalated_at"] == due_at
    assert escalated["version"] == 4
    assert item.last_change(escalated) == {"at": due_at, "event": "CANCELLATION_REQUEST_OVERDUE", "by": "system"}
    assert item.ESCALATION_DUE not in escalated and item.QUEUE_DUE in escalated  # still queued, swept once
    assert store.escalate(order_id, at=later(1)) is False  # at most once


def test_a_sweep_escalates_each_overdue_request_once_and_a_retried_sweep_nothing(store, sla, dynamodb_calls):
    # Given requests overdue, one already decided, and one not yet due
    sla(1)
    overdue = [requested(store, f"OVER-{n}") for n in range(5)]
    decided = requested(store, "DECIDED")
    store.apply(decided, Action.APPROVE_CANCELLATION, WAREHOUSE)
    sla(3600)
    not_due = requested(store, "NOT-DUE")
    past_due()
    dynamodb_calls.clear()

    # When the sweep runs, and runs again (a retried invocation, or the next rate)
    first = sweep(store)
    requests_made = sum(dynamodb_calls.values())
    second = sweep(store)

    # Then each overdue request was escalated once, with one write each
    assert first | {"swept_at": None} == {
        "swept_at": None,
        "overdue": 5,
        "escalated": 5,
        "already_handled": 0,
        "complete": True,
    }
    assert requests_made == 1 + 1 + 5  # the count, one page, one write each
    assert second["escalated"] == 0 and second["overdue"] == 5  # still pending: the alarm's metric stays up
    for order_id in overdue:
        assert len(overdue_entries(store, order_id)) == 1
    assert overdue_entries(store, decided) == [] and overdue_entries(store, not_due) == []


def test_two_sweeps_racing_escalate_each_request_once(store, sla):
    sla(1)
    ids = [requested(store, f"RACE-{n}") for n in range(60)]
    past_due()
    results: list[dict] = []
    run_together(*[lambda: results.append(sweep(store))] * 2)

    assert sum(result["escalated"] for result in results) == len(ids)
    for order_id in ids:
        assert len(overdue_entries(store, order_id)) == 1
        assert store.get(order_id, WAREHOUSE)["version"] == 4


def test_a_decision_racing_an_escalation_has_one_order_of_events_and_a_consistent_history(store, sla):
    sla(1)
    ids = [requested(store, f"DECIDE-{n}") for n in range(30)]
    past_due()
    for order_id in ids:
        run_together(
            lambda order_id=order_id: store.apply(order_id, Action.REJECT_CANCELLATION, WAREHOUSE),
            lambda order_id=order_id: store.escalate(order_id),
        )

    for order_id in ids:
        order = store.get(order_id, WAREHOUSE)
        events = [entry["event"] for entry in order["history"]]
        # Escalated first, then decided; or decided first, and then never escalated.
        assert events[-2:] in (
            ["CANCELLATION_REQUEST_OVERDUE", "CANCELLATION_REJECTED"],
            ["CANCELLATION_REQUESTED", "CANCELLATION_REJECTED"],
        ), events
        assert order["version"] == len(order["history"])
        assert not set(item.QUEUE_ATTRIBUTES) & order.keys()  # off the queue either way
        escalated_at = order[item.REQUEST]["escalated_at"]
        assert (escalated_at is not None) == ("CANCELLATION_REQUEST_OVERDUE" in events)


def test_a_sweep_out_of_time_leaves_the_rest_for_the_next(store, sla):
    sla(1)
    ids = [requested(store, "BIG")]
    ids += copies(store, ids[0], 249)
    past_due()

    # When the first sweep's time runs out part of the way (each escalation looks at the clock once)
    first = sweep(store, checks=120)
    second = sweep(store)

    # Then it stopped before its timeout, and the next one finished, each request escalated once
    assert first["complete"] is False and 0 < first["escalated"] < len(ids)
    assert second["complete"] is True
    assert first["escalated"] + second["escalated"] == len(ids)
    for order_id in ids:
        assert len(overdue_entries(store, order_id)) == 1


def test_the_handler_reports_its_sweep(store, sla):
    sla(1)
    requested(store, "HANDLER")
    past_due()
    result = escalate_overdue.handler(
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}, Countdown(10**9)
    )
    assert result["escalated"] == 1 and result["complete"] is True


def test_the_escalation_reaches_the_warehouse_queue_and_the_seller_with_a_stable_event_id(notification_channels, sla):
    store = OrderStore()
    seller_queue = subscribe_queue(notification_channels.topic_arn, "seller-S-9", {"seller_id": ["S-9"]})
    sla(1)
    order_id = requested(store, "TOLD", seller="S-9")
    past_due()
    sweep(store)
    poller = stream_poller(notification_channels, notifier.handler)
    poller.poll_once()

    warehouse = received(notification_channels.warehouse_queue_url)
    seller = received(seller_queue)
    assert [d.body["event_type"] for d in warehouse] == ["CANCELLATION_REQUESTED", "CANCELLATION_REQUEST_OVERDUE"]
    assert [d.body["event_type"] for d in seller] == ["CANCELLATION_REQUESTED", "CANCELLATION_REQUEST_OVERDUE"]
    told = warehouse[-1].body
    assert told["event_id"] == f"{order_id}:4" == seller[-1].body["event_id"]
    assert told["cancellation"]["request"]["escalated_at"] is not None
    assert told["cancellation"]["request"]["due_at"] is not None
    assert warehouse[-1].attributes["event_type"] == ("String", "CANCELLATION_REQUEST_OVERDUE")
