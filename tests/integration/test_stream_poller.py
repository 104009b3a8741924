"""infra/local/stream_poller.py against moto: the table's real stream, delivered as Lambda's event source mapping does.

The handlers here are plain recording functions, so each test shows one rule of the mapping:
batching, checkpoints, partial batch responses, bisection, retries, record age, the
on-failure destination.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamLambdaOnFailureDestinationModel,
    DynamoDBStreamModel,
)

from infra.local.pace import Pace
from infra.local.stream_poller import MappingSettings, StreamPoller
from orders.domain import WAREHOUSE, Action
from orders.item import order_id_for
from orders.store import OrderStore
from tests.support.api import NEW_ORDER
from tests.support.notifications import notifier_mapping, received

TEMPLATE = MappingSettings.from_template()


class Recorder:
    """A handler that records each batch it gets (as order indexes) and answers as `answer` says."""

    def __init__(self, answer=None):
        self.events: list[dict[str, Any]] = []
        self.answer = answer or (lambda event, calls: None)

    def __call__(self, event: dict[str, Any], context: Any) -> dict | None:
        self.events.append(event)
        return self.answer(event, len(self.events))

    @property
    def batches(self) -> list[list[int]]:
        return [[index_of(record) for record in event["Records"]] for event in self.events]


def index_of(record: dict[str, Any]) -> int:
    """Which of the test's orders (R00, R01, ...) a record is about."""
    return ORDER_INDEX[record["dynamodb"]["Keys"]["order_id"]["S"]]


ORDER_INDEX = {order_id_for("S-1", f"R{n:02}"): n for n in range(40)}


@pytest.fixture
def failures_queue(aws) -> str:
    return boto3.client("sqs").create_queue(QueueName="stream-failures")["QueueUrl"]


def create_orders(count: int) -> list[str]:
    store = OrderStore()
    return [store.create("S-1", {"reference": f"R{n:02}", **NEW_ORDER})[0]["order_id"] for n in range(count)]


def poller(handler, failures_queue: str, **changes: Any) -> StreamPoller:
    return StreamPoller(
        dynamodb_client=boto3.client("dynamodb"),
        streams_client=boto3.client("dynamodbstreams"),
        table_name="orders-test",
        handler=handler,
        sqs_client=boto3.client("sqs"),
        on_failure_queue_url=failures_queue,
        settings=dataclasses.replace(TEMPLATE, **changes),
    )


def sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]


def failing(*indexes: int, times: int = 1):
    """A partial batch response that reports the records of these orders, the first `times` calls."""

    def answer(event, calls):
        if calls > times:
            return {"batchItemFailures": []}
        failed = [record for record in event["Records"] if index_of(record) in indexes]
        return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]} for record in failed]}

    return answer


def test_the_settings_are_the_notifier_stream_events_in_the_template():
    mapping = notifier_mapping()
    assert TEMPLATE.batch_size == mapping["BatchSize"]
    assert TEMPLATE.starting_position == mapping["StartingPosition"] == "TRIM_HORIZON"
    assert TEMPLATE.report_batch_item_failures == ("ReportBatchItemFailures" in mapping["FunctionResponseTypes"])
    assert TEMPLATE.bisect_batch_on_function_error is mapping["BisectBatchOnFunctionError"] is True
    assert TEMPLATE.maximum_retry_attempts == mapping["MaximumRetryAttempts"] > 0
    assert TEMPLATE.maximum_record_age_in_seconds == mapping["MaximumRecordAgeInSeconds"] > 0


def test_each_batch_is_lambdas_dynamodb_event_in_stream_order(failures_queue):
    create_orders(23)
    recorder = Recorder()
    stream = poller(recorder, failures_queue)

    assert stream.poll_once() == 23

    assert recorder.batches == [list(range(10)), list(range(10, 20)), list(range(20, 23))]
    stream_arn = boto3.client("dynamodb").describe_table(TableName="orders-test")["Table"]["LatestStreamArn"]
    numbers = [int(n) for event in recorder.events for n in sequence_numbers(event)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 23
    for event in recorder.events:
        assert json.loads(json.dumps(event)) == event  # what Lambda sends is JSON
        DynamoDBStreamModel.model_validate(event)
        for record in event["Records"]:
            assert record["eventSourceARN"] == stream_arn
            assert (record["eventName"], record["eventSource"], record["awsRegion"]) == (
                "INSERT",
                "aws:dynamodb",
                "eu-west-2",
            )
            assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
            assert "OldImage" not in record["dynamodb"] and record["dynamodb"]["NewImage"]["version"] == {"N": "1"}
            assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_each_poll_delivers_only_what_was_written_since_the_last(failures_queue):
    [order_id] = create_orders(1)
    recorder = Recorder()
    stream = poller(recorder, failures_queue)
    assert stream.poll_once() == 1
    assert stream.poll_once() == 0

    OrderStore().apply(order_id, Action.MOVE_TO_SENT_TO_WAREHOUSE, WAREHOUSE)

    assert stream.poll_once() == 1
    [_, [modify]] = [event["Records"] for event in recorder.events]
    assert modify["eventName"] == "MODIFY"
    assert modify["dynamodb"]["OldImage"]["status"] == {"S": "PENDING"}
    assert modify["dynamodb"]["NewImage"]["status"] == {"S": "SENT_TO_WAREHOUSE"}


def test_a_partial_batch_failure_is_sent_again_from_the_lowest_failed_record(failures_queue):
    create_orders(10)
    recorder = Recorder(failing(3, 7))

    delivered = poller(recorder, failures_queue).poll_once()

    assert recorder.batches == [list(range(10)), list(range(3, 10))]
    assert delivered == 10
    assert received(failures_queue) == []


def test_without_report_batch_item_failures_the_response_is_not_read(failures_queue):
    create_orders(10)
    recorder = Recorder(failing(3))

    delivered = poller(recorder, failures_queue, report_batch_item_failures=False).poll_once()

    assert recorder.batches == [list(range(10))]
    assert delivered == 10


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"id": "x"}]},
        {"batchItemFailures": [{"itemIdentifier": "999"}]},
    ],
)
def test_an_unreadable_partial_response_fails_the_whole_batch(failures_queue, response):
    create_orders(10)
    recorder = Recorder(lambda event, calls: response if calls == 1 else None)

    poller(recorder, failures_queue).poll_once()

    assert recorder.batches == [list(range(10)), list(range(10))]


def test_a_function_error_halves_the_batch_until_the_bad_record_is_alone_then_gives_up_on_it(failures_queue):
    create_orders(10)
    stream_arn = boto3.client("dynamodb").describe_table(TableName="orders-test")["Table"]["LatestStreamArn"]

    def poisoned(event, calls):
        if 6 in [index_of(record) for record in event["Records"]]:
            raise RuntimeError("cannot handle order 6")

    recorder = Recorder(poisoned)

    delivered = poller(recorder, failures_queue, maximum_retry_attempts=2).poll_once()

    # Splits are free; the lone record is tried once and retried twice.
    halving = [list(range(10)), [0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [5, 6, 7], [5, 6], [5]]
    assert recorder.batches == [*halving, [6], [6], [6], [7], [8, 9]]
    assert delivered == 9
    [failure] = received(failures_queue)
    description = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(failure.body)
    [six] = [record for event in recorder.events[6:7] for record in event["Records"]]
    assert description.request_context.condition == "RetryAttemptsExhausted"
    assert description.request_context.approximate_invoke_count == 7  # every invocation order 6 was in
    assert description.response_context.function_error == "Unhandled"
    info = description.ddb_stream_batch_info
    assert (info.start_sequence_number, info.end_sequence_number, info.batch_size) == (
        six["dynamodb"]["SequenceNumber"],
        six["dynamodb"]["SequenceNumber"],
        1,
    )
    assert info.stream_arn == stream_arn
    [shard] = boto3.client("dynamodbstreams").describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    assert info.shard_id == shard["ShardId"]


def test_without_bisection_a_failing_batch_is_retried_whole_then_discarded_whole(failures_queue):
    create_orders(12)

    def broken(event, calls):
        raise RuntimeError("down")

    recorder = Recorder(broken)

    delivered = poller(
        recorder, failures_queue, bisect_batch_on_function_error=False, maximum_retry_attempts=1
    ).poll_once()

    assert recorder.batches == [list(range(10)), list(range(10)), [10, 11], [10, 11]]
    assert delivered == 0
    descriptions = [
        DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(f.body) for f in received(failures_queue)
    ]
    sizes_and_invocations = [
        (d.ddb_stream_batch_info.batch_size, d.request_context.approximate_invoke_count) for d in descriptions
    ]
    assert sizes_and_invocations == [(10, 2), (2, 2)]
    assert [d.ddb_stream_batch_info.start_sequence_number for d in descriptions] == [
        sequence_numbers(recorder.events[0])[0],
        sequence_numbers(recorder.events[2])[0],
    ]


def test_a_partial_failure_that_never_clears_is_given_up_after_the_retries(failures_queue):
    create_orders(10)
    recorder = Recorder(failing(4, times=100))

    delivered = poller(recorder, failures_queue, maximum_retry_attempts=2).poll_once()

    assert recorder.batches == [list(range(10)), list(range(4, 10)), list(range(4, 10))]
    assert delivered == 4
    [failure] = received(failures_queue)
    info = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(failure.body).ddb_stream_batch_info
    assert (info.start_sequence_number, info.end_sequence_number, info.batch_size) == (
        sequence_numbers(recorder.events[1])[0],
        sequence_numbers(recorder.events[1])[-1],
        6,
    )


def test_records_older_than_the_maximum_age_are_discarded_unsent(failures_queue):
    create_orders(3)
    recorder = Recorder()
    stream = poller(recorder, failures_queue)
    stream.clock = lambda: time.time() + TEMPLATE.maximum_record_age_in_seconds + 60

    assert stream.poll_once() == 0

    assert recorder.events == []
    [failure] = received(failures_queue)
    description = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(failure.body)
    assert description.request_context.condition == "RecordAgeExceeded"
    assert description.ddb_stream_batch_info.batch_size == 3


def test_run_delivers_in_the_background_until_stopped(failures_queue):
    recorder = Recorder()
    stream = poller(recorder, failures_queue)
    stop = threading.Event()
    thread = threading.Thread(target=stream.run, args=(stop, Pace(busy=0.01, idle=0.01)))
    thread.start()
    try:
        create_orders(2)
        deadline = time.monotonic() + 5
        while sum(len(batch) for batch in recorder.batches) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(timeout=5)

    assert not thread.is_alive()
    assert [index for batch in recorder.batches for index in batch] == [0, 1]
