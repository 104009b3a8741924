"""An SQS event source mapping, locally: poll the queue, invoke the function with the batch as
Lambda would (the SQS event's record shape), delete what succeeded, leave the rest.

A message the function reports failed (partial batch response) stays in the queue and comes back
when its visibility timeout ends, which the delivery function sets itself for its retries; after
the queue's maxReceiveCount, SQS (moto) moves it to the dead-letter queue. An invocation that
raises leaves the whole batch, as Lambda does.
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
    ):
        self.sqs = sqs_client
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.region = region
        self.handler = handler
        self.batch_size = batch_size
        self.looks = (pace or Pace(idle=0.2)).poller()
        self._stopping = threading.Event()  # run's stop

    def run(self, stop: threading.Event) -> None:
        """Short polls, at the stack's pace while the queue is empty (moto's long poll spins on a core while
        it waits)."""
        self._stopping = stop
        while not stop.is_set():
            try:
                handled = self.poll_once()
            except Exception:
                if stop.is_set():
                    return  # moto or the function went away under it, as the stack stops
                log.exception("polling %s failed", self.queue_url)
                handled = 0
            if not handled:
                self.looks.pause(stop)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """One ReceiveMessage and one invocation for what it got; the number of messages handled."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(message) for message in messages]}
        try:
            result = self.handler(event, None)
        except Exception:
            if not self._stopping.is_set():  # refused because the stack stops: nothing to report
                log.exception("%s failed: the batch comes back after its visibility timeout", self.queue_url)
            return len(messages)
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
        return len(messages)

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
