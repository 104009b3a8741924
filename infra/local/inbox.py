"""The sellers' side of the notifications: what a subscriber filtered on a seller receives.

A local-only SQS queue is subscribed to every SNS topic of the template with a filter policy
on the `seller_id` message attribute, as each seller's channel would be, and drained
continuously. `for_seller` answers from the deliveries SNS actually made: the message
attributes of each delivered envelope say which seller it is for, the body is the message.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from infra.local.pace import Pace, Poller
from infra.local.resources import Clients, LocalResources

log = logging.getLogger("orders-local")
SELLER_FILTER = {"seller_id": [{"exists": True}]}


class Inbox:
    def __init__(self, clients: Clients, resources: LocalResources):
        self._sqs = clients.sqs
        self._sns = clients.sns
        self._topics = list(resources.topics.values())
        self._queue_name = f"{resources.stack_name}-local-seller-notifications"
        self._queue_url = ""
        self._lock = threading.Lock()
        self._delivered: list[tuple[str, dict[str, Any]]] = []  # (seller_id, message body)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # start's stop: set, a drain in progress ends

    def subscribe(self) -> None:
        """Before anything is published: a queue, subscribed to each topic like a seller's channel."""
        self._queue_url = self._sqs.create_queue(QueueName=self._queue_name)["QueueUrl"]
        queue_arn = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for topic_arn in self._topics:
            self._sns.subscribe(
                TopicArn=topic_arn,
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes={"FilterPolicy": json.dumps(SELLER_FILTER)},
            )

    def start(self, stop: threading.Event, pace: Pace | None = None) -> None:
        self._stopping = stop
        looks = (pace or Pace(idle=0.2)).poller()
        self._thread = threading.Thread(target=self._run, args=(stop, looks), name="inbox", daemon=True)
        self._thread.start()

    def join(self, timeout: float = 5) -> None:
        if self._thread:
            self._thread.join(timeout)

    def for_seller(self, seller_id: str) -> list[dict[str, Any]]:
        """The message bodies delivered for this seller so far, oldest first."""
        self.drain()
        with self._lock:
            return [body for seller, body in self._delivered if seller == seller_id]

    def drain(self) -> int:
        """Receive (and delete) whatever the queue holds now (until the stack stops); how many messages there were."""
        if not self._topics:
            return 0
        with self._lock:
            received = 0
            while not self._stopping.is_set():
                messages = self._sqs.receive_message(
                    QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
                ).get("Messages", [])
                if not messages:
                    return received
                for message in messages:
                    self._keep(message)
                self._sqs.delete_message_batch(
                    QueueUrl=self._queue_url,
                    Entries=[
                        {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                        for index, message in enumerate(messages)
                    ],
                )
                received += len(messages)
            return received

    def _keep(self, message: dict[str, Any]) -> None:
        envelope = json.loads(message["Body"])
        seller = envelope.get("MessageAttributes", {}).get("seller_id", {}).get("Value")
        try:
            body = json.loads(envelope["Message"])
        except (KeyError, ValueError):
            log.warning("a notification that is not JSON was published: %r", envelope.get("Message"))
            return
        self._delivered.append((seller, body))

    def _run(self, stop: threading.Event, looks: Poller) -> None:
        while not stop.is_set():
            looks.pause(stop)
            if stop.is_set():
                return
            try:
                self.drain()
            except Exception:
                if not stop.is_set():
                    log.exception("could not drain the local notifications queue")
