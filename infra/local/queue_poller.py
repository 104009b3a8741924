"""An SQS event source mapping, locally: poll the queue, invoke the function with the batch as
Lambda would (the SQS event's record shape), delete what succeeded, leave the rest.

A message the function reports failed (partial batch response) stays in the queue and comes back
when its visibility timeout ends, which the delivery function sets itself for its retries; after
the queue's maxReceiveCount, SQS (moto) moves it to the dead-letter queue. An invocation that
raises leaves the whole batch, as Lambda does.

Lambda runs several batches of one SQS event source at once (it starts with five, and the mapping's
ScalingConfig.MaximumConcurrency caps them), so that one slow batch does not hold up the messages
behind it. So does `run`: one thread receives, and each batch it gets is invoked on a thread of its
own, up to `concurrency` at once; with every one busy it receives nothing more (a message received
and not handled would only wait out its visibility timeout). One receiver also keeps moto's
ReceiveMessage, which is not atomic, from handing one message to two batches.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from infra.local.pace import Pace

log = logging.getLogger("orders-local")


class QueuePoller:
    def __init__(
        self,
        *,
        sqs_client: Any,
        queue_url: str,
        queue_arn: str,
        region: str,
        handler: Callable[[dict[str, Any], Any], Any],
        batch_size: int = 10,
        pace: Pace | None = None,
        concurrency: int = 1,
    ):
        self.sqs = sqs_client
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.region = region
        self.handler = handler
        self.batch_size = batch_size
        self.looks = (pace or Pace(idle=0.2)).poller()
        self.concurrency = concurrency
        self._free = threading.BoundedSemaphore(concurrency)  # invocations that may start now
        self._stopping = threading.Event()  # run's stop

    def run(self, stop: threading.Event) -> None:
        """Short polls, at the stack's pace while the queue is empty (moto's long poll spins on a core while
        it waits); each batch invoked on a thread of its own, `concurrency` at most at once."""
        self._stopping = stop
        while not stop.is_set():
            if not self._free.acquire(timeout=0.1):
                continue  # every invocation busy: look again when one ends
            try:
                messages = self._receive()
            except Exception:
                self._free.release()
                if stop.is_set():
                    return  # moto went away under it, as the stack stops
                log.exception("polling %s failed", self.queue_url)
                messages = []
            if not messages:
                self._free.release()
                self.looks.pause(stop)
                continue
            threading.Thread(target=self._invoke_then_free, args=(messages,), name="queue-batch", daemon=True).start()

    def poll_once(self, wait_seconds: int = 0) -> int:
        """One ReceiveMessage and one invocation for what it got, here and now; the number of messages handled."""
        messages = self._receive(wait_seconds)
        if messages:
            self._invoke(messages)
        return len(messages)

    def _invoke_then_free(self, messages: list[dict[str, Any]]) -> None:
        try:
            self._invoke(messages)
        except Exception:
            if not self._stopping.is_set():
                log.exception("handling a batch of %s failed", self.queue_url)
        finally:
            self._free.release()

    def _receive(self, wait_seconds: int = 0) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return messages

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        """One invocation with the batch; then what succeeded is deleted."""
        event = {"Records": [self._record(message) for message in messages]}
        try:
            result = self.handler(event, None)
        except Exception:
            if not self._stopping.is_set():  # refused because the stack stops: nothing to report
                log.exception("%s failed: the batch comes back after its visibility timeout", self.queue_url)
            return
        failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(number), "ReceiptHandle": message["ReceiptHandle"]}
                    for number, message in enumerate(done[start : start + 10])
                ],
            )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("MessageAttributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value["DataType"],
                }
                for name, value in attributes.items()
            },
            "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
