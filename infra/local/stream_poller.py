"""The Lambda event source mapping of the orders table's stream, emulated outside AWS.

moto records the table's stream but invokes Lambda functions only through Docker. This
poller reads the stream with the DynamoDB Streams API, builds the event Lambda would send,
calls a handler in place, and treats its answer as the event source mapping would, with the
mapping's settings read from template.yaml:

- batches of at most BatchSize records, one shard at a time, in stream order;
- with ReportBatchItemFailures, a partial batch response moves the checkpoint to just before
  the lowest failed sequence number and the rest of the batch is sent again (a retry);
- a handler error fails the whole batch; with BisectBatchOnFunctionError it is split in two
  halves, tried in order, and (as in Lambda) a split does not use up a retry;
- after MaximumRetryAttempts retries, or once a record is older than MaximumRecordAgeInSeconds,
  the batch is discarded: its description (shard, first and last sequence numbers, as Lambda
  writes it) goes to the on-failure SQS queue, and the shard moves on.

Retries follow each other at once: `poll_once` returns when every record it read is
delivered or discarded, or, under `run`, as soon as the stack stops: between pages, batches and
retries, so that a backlog of thousands of records does not hold the stop up.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from infra import template
from infra.local.lambda_context import LambdaContext
from infra.local.pace import Pace

log = logging.getLogger(__name__)

NOTIFIER = "NotifierFunction"
FOREVER = -1  # MaximumRetryAttempts / MaximumRecordAgeInSeconds: no limit


@dataclass(frozen=True)
class MappingSettings:
    """The stream event's properties that shape delivery; the defaults are Lambda's own."""

    batch_size: int = 100
    starting_position: str = "TRIM_HORIZON"
    report_batch_item_failures: bool = False
    bisect_batch_on_function_error: bool = False
    maximum_retry_attempts: int = FOREVER
    maximum_record_age_in_seconds: int = FOREVER
    function_name: str = NOTIFIER
    timeout_seconds: int = 3

    @classmethod
    def from_template(cls, function: str = NOTIFIER) -> MappingSettings:
        """The settings of `function`'s DynamoDB stream event in template.yaml."""
        body = template.resources("AWS::Serverless::Function")[function]["Properties"]
        [properties] = [event["Properties"] for event in body["Events"].values() if event["Type"] == "DynamoDB"]
        defaults = cls()
        timeout = body.get("Timeout", template.template().get("Globals", {}).get("Function", {}).get("Timeout"))
        return cls(
            batch_size=properties.get("BatchSize", defaults.batch_size),
            starting_position=properties["StartingPosition"],
            report_batch_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
            bisect_batch_on_function_error=properties.get("BisectBatchOnFunctionError", False),
            maximum_retry_attempts=properties.get("MaximumRetryAttempts", FOREVER),
            maximum_record_age_in_seconds=properties.get("MaximumRecordAgeInSeconds", FOREVER),
            function_name=function,
            timeout_seconds=timeout or defaults.timeout_seconds,
        )


@dataclass
class _Batch:
    """Records on their way to the handler: how often they were retried, how many invocations they were in."""

    records: list[dict[str, Any]]
    retries: int = 0
    invocations: int = 0
    function_error: bool = False


class _Discards:
    """Records given up on one after another, described together (Lambda, too, consolidates them)."""

    def __init__(self, describe: Callable[[str, _Batch], None]):
        self._describe = describe
        self._pending: tuple[str, _Batch] | None = None  # the condition, and the records given up for it

    def add(self, condition: str, batch: _Batch) -> None:
        if self._pending is not None and condition == self._pending[0]:
            given_up = self._pending[1]
            given_up.records = given_up.records + batch.records
            given_up.invocations = max(given_up.invocations, batch.invocations)
            given_up.function_error = given_up.function_error or batch.function_error
            return
        self.flush()
        self._pending = condition, replace(batch)

    def flush(self) -> None:
        if self._pending is not None:
            self._describe(*self._pending)
        self._pending = None


class _Stopped(Exception):
    """The stack is stopping: the poll in progress ends where it is."""


@dataclass(frozen=True)
class _Result:
    """What one invocation did: how many records (from the front) succeeded, and whether it raised."""

    succeeded: int
    function_error: bool = False


class StreamPoller:
    """Delivers the stream of `table_name` to `handler(event, context)` as the template's mapping would.

    `settings` default to the notifier's stream event in template.yaml; discarded batches are
    described to `on_failure_queue_url` with `sqs_client` (or only logged without them); record
    ages are measured against `clock` (seconds since the epoch).
    """

    def __init__(
        self,
        *,
        dynamodb_client: Any,
        streams_client: Any,
        table_name: str,
        handler: Callable[[dict[str, Any], Any], dict[str, Any] | None],
        sqs_client: Any = None,
        on_failure_queue_url: str | None = None,
        settings: MappingSettings | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.dynamodb = dynamodb_client
        self.streams = streams_client
        self.table_name = table_name
        self.handler = handler
        self.sqs = sqs_client
        self.on_failure_queue_url = on_failure_queue_url
        self.settings = settings or MappingSettings.from_template()
        self.clock = clock
        self._stream_arn: str | None = None
        self._checkpoints: dict[str, str] = {}  # shard id -> last sequence number delivered or discarded
        self._iterators: dict[str, str] = {}  # shard id -> where the next read starts
        self._closed: set[str] = set()  # shards read to their end
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # run's stop: set, the poll in progress gives up

    # -- the loop ----------------------------------------------------------------------------

    def poll_once(self) -> int:
        """Deliver every record now in the stream (with retries); how many the handler took."""
        with self._lock:
            try:
                stream_arn = self._stream()
                return sum(self._poll_shard(stream_arn, shard) for shard in self._shards(stream_arn))
            except _Stopped:
                return 0

    def run(self, stop: threading.Event, pace: Pace | None = None) -> None:
        """Poll until `stop` is set, at `pace`; a failed poll is logged and tried again, as Lambda keeps polling."""
        self._stopping = stop
        looks = (pace or Pace(idle=0.2)).poller()
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("polling the stream of %s failed; trying again", self.table_name)
            looks.pause(stop)

    def _poll_shard(self, stream_arn: str, shard: str) -> int:
        records, next_iterator = self._read(stream_arn, shard)
        delivered = 0
        for start in range(0, len(records), self.settings.batch_size):
            delivered += self._deliver(stream_arn, shard, records[start : start + self.settings.batch_size])
        # Only now that everything read is settled may the next poll go on from the end of the read.
        if next_iterator:
            self._iterators[shard] = next_iterator
        else:
            self._closed.add(shard)
        return delivered

    # -- delivery, retries, bisection, discarding ----------------------------------------------

    def _deliver(self, stream_arn: str, shard: str, records: list[dict[str, Any]]) -> int:
        """Settle one batch: every record ends up delivered or discarded, in stream order."""
        delivered = 0
        discards = _Discards(lambda condition, batch: self._describe(stream_arn, shard, batch, condition))
        pending = deque([_Batch(records)])
        while pending:
            self._unless_stopping()
            batch = pending.popleft()
            expired = self._expired_prefix(batch.records)
            if expired:
                self._checkpoints[shard] = _sequence_number(expired[-1])
                discards.add("RecordAgeExceeded", _Batch(expired, batch.retries, batch.invocations))
                batch.records = batch.records[len(expired) :]
                if not batch.records:
                    continue
            result = self._invoke(stream_arn, batch.records)
            batch.invocations += 1
            delivered += result.succeeded
            if result.succeeded:
                self._checkpoints[shard] = _sequence_number(batch.records[result.succeeded - 1])
                discards.flush()
            failed = batch.records[result.succeeded :]
            if not failed:
                continue
            if result.function_error and self.settings.bisect_batch_on_function_error and len(failed) > 1:
                half = (len(failed) + 1) // 2
                halves = (failed[:half], failed[half:])
                pending.extendleft(_Batch(part, batch.retries, batch.invocations) for part in reversed(halves))
            elif self._retries_left(batch.retries):
                pending.appendleft(_Batch(failed, batch.retries + 1, batch.invocations))
            else:
                self._checkpoints[shard] = _sequence_number(failed[-1])
                given_up = _Batch(failed, batch.retries, batch.invocations, result.function_error)
                discards.add("RetryAttemptsExhausted", given_up)
        discards.flush()
        return delivered

    def _invoke(self, stream_arn: str, records: list[dict[str, Any]]) -> _Result:
        event = {"Records": [_lambda_record(stream_arn, record) for record in records]}
        context = LambdaContext(
            function_name=self.settings.function_name,
            invoked_function_arn=_function_arn(self.settings, stream_arn),
            timeout_seconds=self.settings.timeout_seconds,
        )
        try:
            response = self.handler(event, context)
        except Exception:
            self._unless_stopping()  # a failure because the stack stops is no failure to report
            log.warning("%s failed on %d records", self.settings.function_name, len(records), exc_info=True)
            return _Result(succeeded=0, function_error=True)
        if not self.settings.report_batch_item_failures:
            return _Result(succeeded=len(records))
        return _Result(succeeded=_succeeded_before_first_failure(response, records))

    def _unless_stopping(self) -> None:
        if self._stopping.is_set():
            raise _Stopped()

    def _retries_left(self, retries: int) -> bool:
        limit = self.settings.maximum_retry_attempts
        return limit == FOREVER or retries < limit

    def _expired_prefix(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        limit = self.settings.maximum_record_age_in_seconds
        if limit == FOREVER:
            return []
        now = self.clock()
        expired = []
        for record in records:
            if now - record["dynamodb"]["ApproximateCreationDateTime"].timestamp() <= limit:
                break
            expired.append(record)
        return expired

    def _describe(self, stream_arn: str, shard: str, batch: _Batch, condition: str) -> None:
        """Tell the on-failure destination, as Lambda does, which records the shard moved past unsent."""
        description = _failure_description(stream_arn, shard, batch, condition, self.settings)
        if self.sqs is None or self.on_failure_queue_url is None:
            log.error("discarded stream records with no on-failure destination: %s", json.dumps(description))
            return
        log.warning("discarded %d stream records (%s)", len(batch.records), condition)
        self.sqs.send_message(QueueUrl=self.on_failure_queue_url, MessageBody=json.dumps(description))

    # -- reading the stream ------------------------------------------------------------------

    def _stream(self) -> str:
        if self._stream_arn is None:
            table = self.dynamodb.describe_table(TableName=self.table_name)["Table"]
            self._stream_arn = str(table["LatestStreamArn"])
        return self._stream_arn

    def _shards(self, stream_arn: str) -> Iterator[str]:
        """The open shards, each after its parent (a parent's records come first)."""
        shards: dict[str, str | None] = {}
        request: dict[str, Any] = {"StreamArn": stream_arn}
        while True:
            description = self.streams.describe_stream(**request)["StreamDescription"]
            shards.update({shard["ShardId"]: shard.get("ParentShardId") for shard in description["Shards"]})
            if "LastEvaluatedShardId" not in description:
                break
            request["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]
        ordered: list[str] = []
        while len(ordered) < len(shards):
            waiting = shards.keys() - set(ordered)
            ordered += [shard for shard in shards if shard in waiting and shards[shard] not in waiting]
        yield from (shard for shard in ordered if shard not in self._closed)

    def _read(self, stream_arn: str, shard: str) -> tuple[list[dict[str, Any]], str | None]:
        """Every record after the checkpoint, and the iterator to read on from next time (None: shard closed)."""
        iterator = self._iterators.pop(shard, None) or self._iterator_at_checkpoint(stream_arn, shard)
        records: list[dict[str, Any]] = []
        while iterator:
            self._unless_stopping()
            try:
                page = self.streams.get_records(ShardIterator=iterator)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                    raise
                page = self.streams.get_records(ShardIterator=self._iterator_at_checkpoint(stream_arn, shard))
                records.clear()
            records += page["Records"]
            if not page["Records"]:
                return records, page.get("NextShardIterator")
            iterator = page.get("NextShardIterator")
        return records, None

    def _iterator_at_checkpoint(self, stream_arn: str, shard: str) -> str:
        where: dict[str, Any] = {"ShardIteratorType": self.settings.starting_position}
        if shard in self._checkpoints:
            where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self._checkpoints[shard]}
        iterator: str = self.streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, **where)["ShardIterator"]
        return iterator


# -- what Lambda sends and writes ---------------------------------------------------------------


def _lambda_record(stream_arn: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A GetRecords record as Lambda's DynamoDB event carries it: JSON, with the stream's ARN and region."""
    change = record["dynamodb"]
    dynamodb = {
        "ApproximateCreationDateTime": int(change["ApproximateCreationDateTime"].timestamp()),
        **{
            name: _json_value(change[name])
            for name in ("Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType")
            if name in change
        },
    }
    event = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record["eventVersion"],
        "eventSource": "aws:dynamodb",
        "awsRegion": _region(stream_arn),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:
        identity = record["userIdentity"]
        event["userIdentity"] = {"type": identity["Type"], "principalId": identity["PrincipalId"]}
    return event


def _json_value(value: Any) -> Any:
    """Binary attribute values as Lambda sends them: base64 text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {name: _json_value(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_json_value(inner) for inner in value]
    return value


def _succeeded_before_first_failure(response: Any, records: list[dict[str, Any]]) -> int:
    """How many records precede the lowest failed sequence number; an unreadable response fails them all."""
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return len(records)
    sequence_numbers = [_sequence_number(record) for record in records]
    try:
        failed = [sequence_numbers.index(item["itemIdentifier"]) for item in response["batchItemFailures"]]
    except (TypeError, KeyError, ValueError, AttributeError):
        log.warning("unreadable batchItemFailures %r: the whole batch failed", response["batchItemFailures"])
        return 0
    return min(failed)


def _failure_description(
    stream_arn: str, shard: str, batch: _Batch, condition: str, settings: MappingSettings
) -> dict[str, Any]:
    """What Lambda sends an on-failure destination about a discarded batch of a DynamoDB stream."""
    first, last = batch.records[0], batch.records[-1]
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if batch.function_error:
        response_context["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": _function_arn(settings, stream_arn),
            "condition": condition,
            "approximateInvokeCount": batch.invocations,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": _iso(datetime.now(UTC)),
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": _sequence_number(first),
            "endSequenceNumber": _sequence_number(last),
            "approximateArrivalOfFirstRecord": _iso(first["dynamodb"]["ApproximateCreationDateTime"]),
            "approximateArrivalOfLastRecord": _iso(last["dynamodb"]["ApproximateCreationDateTime"]),
            "batchSize": len(batch.records),
            "streamArn": stream_arn,
        },
    }


def _sequence_number(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def _region(stream_arn: str) -> str:
    return stream_arn.split(":")[3]


def _function_arn(settings: MappingSettings, stream_arn: str) -> str:
    _, partition, _, region, account, *_ = stream_arn.split(":")
    return f"arn:{partition}:lambda:{region}:{account}:function:{settings.function_name}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
