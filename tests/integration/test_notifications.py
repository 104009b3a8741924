"""Notifications end to end in moto: store writes -> the table's stream -> the notifier -> SNS -> SQS subscribers.

Every record is a real one: written through orders.store.OrderStore, read back from moto's
stream and delivered by infra/local/stream_poller.py as the template's event source mapping would.
The topic, the warehouse queue and its filter policy are template.yaml's own. When SNS has to
fail, it fails inside the notifier's real boto3 client, through botocore's event hooks.
"""

from __future__ import annotations

import dataclasses
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamLambdaOnFailureDestinationModel
from botocore.exceptions import ClientError

from infra.local.lambda_context import LambdaContext
from infra.local.stream_poller import MappingSettings
from orders import domain, settings
from orders.domain import WAREHOUSE, Details, OrderStatus, Refusal, Seller, State, Transition, Unchanged
from orders.handlers import notifier
from orders.store import Applied, OrderStore, RefusalError
from tests.support.api import NEW_ORDER, SellerPortal
from tests.support.commands import ACTIONS, SELLER_COMMANDS, details_for
from tests.support.contract import COMMANDS
from tests.support.notifications import Delivery, expected_delivery, received, stream_poller, subscribe_queue


@pytest.fixture
def store(notification_channels) -> OrderStore:
    return OrderStore()


@pytest.fixture
def everything(notification_channels) -> str:
    """A subscriber with no filter: every message the topic publishes, in order."""
    return subscribe_queue(notification_channels.topic_arn, "everything")


class Notifier:
    """The notifier's handler, recording each invocation: the batch's sequence numbers and the response."""

    def __init__(self) -> None:
        self.invocations: list[tuple[list[str], dict | None]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict | None:
        numbers = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
        try:
            response = notifier.handler(event, context)
        except BatchProcessingError:
            self.invocations.append((numbers, None))
            raise
        self.invocations.append((numbers, response))
        return response

    def failures(self, invocation: int) -> list[str]:
        return [item["itemIdentifier"] for item in self.invocations[invocation][1]["batchItemFailures"]]


@dataclasses.dataclass(frozen=True)
class Attempt:
    """One publish the notifier tries."""

    event_id: str
    number: int  # among every publish tried, from 1
    earlier_tries: int  # of this same event


@dataclasses.dataclass
class SnsOutage:
    """SNS failing the publishes `fails` picks; every attempt is kept (event id, body, whether it failed)."""

    fails: Callable[[Attempt], bool]
    attempts: list[tuple[str, dict, bool]] = dataclasses.field(default_factory=list)

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        body = json.loads(params["Message"])
        earlier = sum(1 for event_id, _, _ in self.attempts if event_id == body["event_id"])
        failed = self.fails(Attempt(body["event_id"], len(self.attempts) + 1, earlier))
        self.attempts.append((body["event_id"], body, failed))
        if failed:
            raise ClientError(
                {
                    "Error": {"Code": "ServiceUnavailable", "Message": "SNS is down"},
                    "ResponseMetadata": {"HTTPStatusCode": 503},
                },
                "Publish",
            )

    @property
    def published(self) -> list[str]:
        return [event_id for event_id, _, failed in self.attempts if not failed]

    @property
    def failed(self) -> list[tuple[str, dict]]:
        return [(event_id, body) for event_id, body, failed in self.attempts if failed]


@contextmanager
def sns_outage(fails: Callable[[Attempt], bool]) -> Iterator[SnsOutage]:
    """SNS failing the publishes `fails` picks, in the very client the notifier publishes with (botocore's hooks)."""
    outage = SnsOutage(fails)
    client = settings.sns()
    client.meta.events.register("before-parameter-build.sns.Publish", outage)
    try:
        yield outage
    finally:
        client.meta.events.unregister("before-parameter-build.sns.Publish", outage)


def new_order(store: OrderStore, reference: str, seller: str = "S-1") -> str:
    return store.create(seller, {"reference": reference, **NEW_ORDER})[0]["order_id"]


def send(store: OrderStore, order_id: str, command: str, seller: str = "S-1") -> Applied | RefusalError:
    """A command of the contract's table, sent as the seller or the warehouse would send it."""
    caller = Seller(seller) if command in SELLER_COMMANDS else WAREHOUSE
    details = {
        "request": Details(reason_code="CUSTOMER_REQUEST", note="Ordered twice"),
        "reject": Details(reason_code="ALREADY_PACKED", note="In the courier cage"),
    }.get(command) or details_for(command)
    try:
        return store.apply(order_id, ACTIONS[command], caller, details)
    except RefusalError as refusal:
        return refusal


def told(applied: Applied | RefusalError) -> Delivery | None:
    """What subscribers should hear of a command's outcome, by the rules: one delivery or nothing."""
    if isinstance(applied, Applied) and isinstance(applied.outcome, Transition):
        event = domain.told(applied.outcome.event, applied.outcome.status)
        return expected_delivery(applied.order, event) if event else None
    return None


def has_stock(store: OrderStore, order_id: str) -> bool:
    order = store.get(order_id, WAREHOUSE)
    backorder = order.get("backorder")
    return domain.has_stock(order["items"], backorder["items"] if backorder else None)


def event_ids(deliveries: list[Delivery]) -> list[str]:
    return [delivery.body["event_id"] for delivery in deliveries]


# -- who hears what ----------------------------------------------------------------------------


def test_each_seller_hears_of_their_own_orders_and_the_warehouse_of_cancellation_requests(notification_channels, store):
    # Given two sellers' channels, each subscribed to its own seller_id, and the template's warehouse queue
    channels = notification_channels
    queues = {
        seller: subscribe_queue(channels.topic_arn, f"seller-{seller}", {"seller_id": [seller]})
        for seller in ("S-A", "S-B")
    }
    script = [
        ("S-A", "A-1", ["cancel", "cancel"]),  # the second is "200, unchanged"
        ("S-A", "A-2", ["SENT_TO_WAREHOUSE", "request", "request", "approve", "approve"]),
        ("S-A", "A-3", ["SENT_TO_WAREHOUSE", "PICKED", "request", "reject", "request"]),  # the last is a 409
        ("S-B", "B-1", ["SENT_TO_WAREHOUSE", "request", "PACKED", "DESPATCHED", "cancel"]),  # despatch rejects
        ("S-B", "B-2", ["SENT_TO_WAREHOUSE", "PICKED", "cancel", "approve"]),  # nothing to tell
    ]

    # When they and the warehouse send their commands, and the stream is delivered
    expected: list[Delivery] = []
    for seller, reference, commands in script:
        order_id = new_order(store, reference, seller)
        expected += [delivery for command in commands if (delivery := told(send(store, order_id, command, seller)))]
    stream_poller(channels, notifier.handler).poll_once()

    # Then each hears exactly their own, with the body and attributes of docs/api.md §4
    assert [d.body["event_type"] for d in expected] == [
        "ORDER_CANCELLED",
        "CANCELLATION_REQUESTED",
        "CANCELLATION_APPROVED",
        "CANCELLATION_REQUESTED",
        "CANCELLATION_REJECTED",
        "CANCELLATION_REQUESTED",
        "CANCELLATION_REJECTED",
    ]
    assert received(queues["S-A"]) == [d for d in expected if d.body["seller_id"] == "S-A"]
    assert received(queues["S-B"]) == [d for d in expected if d.body["seller_id"] == "S-B"]
    assert received(channels.warehouse_queue_url) == [
        d for d in expected if d.body["event_type"] == "CANCELLATION_REQUESTED"
    ]
    despatch = expected[-1].body
    assert despatch["status"] == "DESPATCHED"
    assert despatch["cancellation"]["request"]["decision_reason_code"] == "ORDER_DESPATCHED"


def test_commands_through_the_api_publish_nothing_until_the_stream_is_delivered(notification_channels, everything):
    sns_calls: list[str] = []
    settings.sns().meta.events.register("before-call.sns", lambda model, **_: sns_calls.append(model.name))
    portal = SellerPortal("S-1")

    order = portal.order_in("PACKED/REQUESTED", "SHOP-1")
    assert portal.send("approve", order["order_id"]).status == 200

    assert sns_calls == [] and received(everything) == []
    stream_poller(notification_channels, notifier.handler).poll_once()
    assert [d.body["event_type"] for d in received(everything)] == ["CANCELLATION_REQUESTED", "CANCELLATION_APPROVED"]
    assert sns_calls == ["Publish", "Publish"]


@pytest.mark.parametrize("seed", [7, 1234, 99991])
def test_over_random_commands_each_notifiable_change_is_told_once_and_nothing_else_is(
    notification_channels, store, everything, seed
):
    rng = random.Random(seed)
    sellers = {new_order(store, f"R-{n}", f"S-{n % 3}"): f"S-{n % 3}" for n in range(12)}
    states = dict.fromkeys(sellers, State(OrderStatus.PENDING))
    expected, writes = [], len(sellers)

    for _ in range(150):
        order_id, command = rng.choice(list(sellers)), rng.choice(COMMANDS)
        # The rules table is the oracle for what each command does (and the lines, for a split's stock).
        outcome = domain.decide(states[order_id], ACTIONS[command])
        if command == "split" and isinstance(outcome, Transition) and not has_stock(store, order_id):
            outcome = Refusal.NOTHING_IN_STOCK
        result = send(store, order_id, command, sellers[order_id])
        if isinstance(outcome, Transition):
            assert isinstance(result, Applied) and result.outcome == outcome
            states[order_id] = outcome.apply(states[order_id])
            writes += 2 if command == "split" else 1  # a split also writes the order it splits off
            if event := domain.told(outcome.event, outcome.status):
                expected.append((f"{order_id}:{result.order['version']}", event.value))
        elif isinstance(outcome, Unchanged):
            assert isinstance(result, Applied) and isinstance(result.outcome, Unchanged)
        else:
            assert isinstance(result, RefusalError) and result.refusal == outcome

    assert stream_poller(notification_channels, notifier.handler).poll_once() == writes
    deliveries = received(everything)

    assert [(d.body["event_id"], d.body["event_type"]) for d in deliveries] == expected
    assert writes - len(sellers) > len(expected)  # status moves happened, and were not told
    assert all(d.attributes["event_type"] == ("String", d.body["event_type"]) for d in deliveries)
    assert all(d.attributes["seller_id"] == ("String", sellers[d.body["order_id"]]) for d in deliveries)


def test_when_approval_races_despatch_exactly_the_winner_is_told(
    notification_channels, store, everything, eager_thread_switching
):
    stream = stream_poller(notification_channels, notifier.handler)
    order_ids = [new_order(store, f"RACE-{n}") for n in range(15)]
    for order_id in order_ids:
        for command in ("SENT_TO_WAREHOUSE", "PACKED", "request"):
            send(store, order_id, command)
    stream.poll_once()
    assert len(received(everything)) == len(order_ids)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for n, order_id in enumerate(order_ids):
            barrier = threading.Barrier(2)

            # Despatch needs two writes when it meets a pending request; on every other order approval
            # starts up to 20 ms late, so that each side gets to win some races.
            delay = {"approve": n % 2 * 0.02 * n / len(order_ids), "DESPATCHED": 0.0}

            def race(command: str, order_id: str = order_id, barrier: threading.Barrier = barrier, delay=delay):
                barrier.wait()
                time.sleep(delay[command])
                return send(store, order_id, command)

            list(pool.map(race, ["approve", "DESPATCHED"]))
    stream.poll_once()

    deliveries = received(everything)
    assert sorted(d.body["order_id"] for d in deliveries) == sorted(order_ids)  # one event per order
    for delivery in deliveries:
        final = store.get(delivery.body["order_id"], WAREHOUSE)
        assert delivery.body["event_id"] == f"{final['order_id']}:{final['version']}"
        assert delivery.body["status"] == final["status"]
        winner = "CANCELLATION_APPROVED" if final["status"] == "CANCELLED" else "CANCELLATION_REJECTED"
        assert delivery.body["event_type"] == winner


# -- when SNS fails --------------------------------------------------------------------------


def test_when_sns_fails_for_part_of_a_batch_only_the_rest_is_sent_again_and_every_event_arrives_once(
    notification_channels, store, everything
):
    # Given twelve orders whose creation was delivered (and told nobody)
    recorder = Notifier()
    stream = stream_poller(notification_channels, recorder)
    order_ids = [new_order(store, f"R-{n:02}") for n in range(12)]
    stream.poll_once()
    recorder.invocations.clear()
    # and SNS failing the first publish of the 4th and 7th cancellation only
    flaky = {f"{order_ids[3]}:2", f"{order_ids[6]}:2"}
    cancelled = [f"{send(store, order_id, 'cancel').order['order_id']}:2" for order_id in order_ids]

    # When the stream is delivered
    with sns_outage(lambda attempt: attempt.event_id in flaky and attempt.earlier_tries == 0) as outage:
        delivered = stream.poll_once()

    # Then each failure is reported with everything after it, and only that is sent again
    batch = recorder.invocations[0][0]
    assert [numbers for numbers, _ in recorder.invocations] == [batch, batch[3:], batch[6:], recorder.invocations[3][0]]
    assert recorder.failures(0) == batch[3:]
    assert recorder.failures(1) == batch[6:]
    assert recorder.failures(2) == [] and recorder.failures(3) == []
    assert delivered == 12
    # and every event was published once and arrived once, in order; the retried ones with the same id and body
    assert outage.published == cancelled
    deliveries = received(everything)
    assert event_ids(deliveries) == cancelled
    assert [event_id for event_id, _ in outage.failed] == sorted(flaky, key=cancelled.index)
    for event_id, body in outage.failed:
        assert [d.body for d in deliveries if d.body["event_id"] == event_id] == [body]
    assert received(notification_channels.failures_queue_url) == []


def test_an_sns_outage_shorter_than_the_retries_loses_nothing_and_keeps_the_order(
    notification_channels, store, everything
):
    # Given changes to tell on several orders, more than one batch of them
    stream = stream_poller(notification_channels, recorder := Notifier())
    expected: list[Delivery] = []
    for n in range(6):
        order_id = new_order(store, f"R-{n}")
        for command in ("SENT_TO_WAREHOUSE", "request", "reject" if n % 2 else "approve"):
            expected += [delivery] if (delivery := told(send(store, order_id, command))) else []

    # When SNS refuses the first 40 publishes, then comes back
    with sns_outage(lambda attempt: attempt.number <= 40) as outage:
        stream.poll_once()

    # Then the batches were halved and retried until SNS took them, and each event arrived once, in order
    assert len(outage.failed) == 40
    assert any(len(numbers) == 1 for numbers, _ in recorder.invocations)
    assert received(everything) == expected
    assert received(notification_channels.failures_queue_url) == []


def test_an_outage_longer_than_the_retries_leaves_the_batch_described_on_the_failure_queue_and_in_the_stream(
    notification_channels, store, everything
):
    # Given a mapping that gives up after two retries, and three cancellations
    stream = stream_poller(
        notification_channels,
        notifier.handler,
        dataclasses.replace(MappingSettings.from_template(), maximum_retry_attempts=2),
    )
    order_ids = [new_order(store, f"R-{n}") for n in range(3)]
    stream.poll_once()
    cancelled = [send(store, order_id, "cancel").order for order_id in order_ids]

    # When SNS stays down
    with sns_outage(lambda attempt: True):
        assert stream.poll_once() == 0

    # Then nothing was told, and the failure queue names the shard and sequence numbers of what was not
    assert received(everything) == []
    [failure] = received(notification_channels.failures_queue_url)
    info = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(failure.body).ddb_stream_batch_info
    # and those records can still be read back from the stream, to be told by hand
    streams = boto3.client("dynamodbstreams")
    iterator = streams.get_shard_iterator(
        StreamArn=info.stream_arn,
        ShardId=info.shard_id,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info.start_sequence_number,
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=info.batch_size)["Records"]
    assert records[-1]["dynamodb"]["SequenceNumber"] == info.end_sequence_number
    assert [r["dynamodb"]["NewImage"]["order_id"]["S"] for r in records] == [order["order_id"] for order in cancelled]


def stream_events(notification_channels) -> list[dict[str, Any]]:
    """The Lambda events the stream's records are delivered in, captured instead of handled."""
    events: list[dict[str, Any]] = []
    stream_poller(notification_channels, lambda event, context: events.append(event)).poll_once()
    return events


@pytest.fixture
def pause(monkeypatch):
    def set_pause(seconds: float) -> None:
        monkeypatch.setenv("PUBLISH_RETRY_PAUSE_SECONDS", str(seconds))
        settings.settings.cache_clear()  # only the settings: the SNS client keeps its recorder

    return set_pause


def a_cancellation(store: OrderStore, notification_channels) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Lambda event of a new order's creation and cancellation, and the partial response failing the latter."""
    send(store, new_order(store, "R-1"), "cancel")
    [event] = stream_events(notification_channels)
    assert [record["eventName"] for record in event["Records"]] == ["INSERT", "MODIFY"]
    return event, {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["dynamodb"]["SequenceNumber"]}]}


def test_a_failed_publish_waits_before_reporting_so_that_retries_are_spaced_out(notification_channels, store, pause):
    event, cancellation_failed = a_cancellation(store, notification_channels)
    pause(0.3)

    with sns_outage(lambda attempt: True):
        started = time.monotonic()
        response = notifier.handler(event, LambdaContext(function_name="NotifierFunction", timeout_seconds=30))

    assert time.monotonic() - started >= 0.3
    assert response == cancellation_failed


def test_the_pause_ends_before_the_function_would_time_out(notification_channels, store, pause):
    event, cancellation_failed = a_cancellation(store, notification_channels)
    pause(10)

    with sns_outage(lambda attempt: True):
        started = time.monotonic()
        response = notifier.handler(event, LambdaContext(function_name="NotifierFunction", timeout_seconds=1.5))

    assert 0.4 <= time.monotonic() - started < 1.5
    assert response == cancellation_failed


def test_a_record_the_notifier_cannot_read_fails_at_once(notification_channels, store, pause):
    event, cancellation_failed = a_cancellation(store, notification_channels)
    event["Records"][1]["dynamodb"]["NewImage"]["history"]["L"][-1]["M"]["event"] = {"S": "NOT_AN_EVENT"}
    pause(10)

    started = time.monotonic()
    response = notifier.handler(event, LambdaContext(function_name="NotifierFunction", timeout_seconds=30))

    assert time.monotonic() - started < 1
    assert response == cancellation_failed


def test_a_batch_whose_first_record_fails_is_a_function_error_for_the_mapping_to_halve(notification_channels, store):
    event, _ = a_cancellation(store, notification_channels)
    event["Records"] = event["Records"][1:]  # a batch of the cancellation alone: nothing in it succeeds

    with sns_outage(lambda attempt: True), pytest.raises(BatchProcessingError):
        notifier.handler(event, LambdaContext(function_name="NotifierFunction", timeout_seconds=30))
