"""What the in-process hardening tests stand on: notifications read back, and a faulty network.

- `Notifications`: the topic and a subscribed queue in moto, the table's stream delivered to
  the real notifier by infra/local/stream_poller.StreamPoller (the event source mapping as built),
  and every message the queue received, read back as JSON.
- `FaultyEndpoint`: a loopback HTTP endpoint in front of in-process moto. The functions' own
  clients are pointed at it (AWS_ENDPOINT_URL_<SERVICE>) and it answers each request as a
  script says: pass it on to moto, throttle it, say the service is unavailable, or apply it
  and then drop the connection before the answer (the response lost on the way back). The
  SDK's retry mode, as orders/settings.py configures it, sees real HTTP answers.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import boto3

# `make soak` runs the same tests with more examples, rounds and seconds (HARDENING_SCALE=10).
SCALE = max(1, int(os.environ.get("HARDENING_SCALE", "1")))


def forget_clients() -> None:
    """Drop the functions' cached settings and clients, so the next call reads the environment again."""
    from orders import settings

    settings.reset()


def table_items() -> list[dict[str, Any]]:
    """Every item of the orders table, as DynamoDB holds it, in key order."""
    client = boto3.client("dynamodb")
    items = client.scan(TableName=os.environ["TABLE_NAME"], ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: item["order_id"]["S"])


# -- notifications -------------------------------------------------------------------------------


@dataclass
class Delivered:
    """One message as the subscriber's queue received it."""

    event: dict[str, Any]
    attributes: dict[str, str]
    raw: str


@dataclass
class Notifications:
    """A queue subscribed to all of the topic, and the stream poller that feeds the notifier (as built)."""

    queue_url: str
    poller: Any
    sqs: Any
    received: list[Delivered] = field(default_factory=list)

    @classmethod
    def start(
        cls, channels: Any, handler: Callable[[dict, Any], Any] | None = None, name: str = "every-event"
    ) -> Notifications:
        """`channels`: tests/conftest.py's notification_channels (template.yaml's topic, TOPIC_ARN set)."""
        from orders.handlers import notifier
        from tests.support.notifications import stream_poller, subscribe_queue

        queue_url = subscribe_queue(channels.topic_arn, name)
        forget_clients()
        return cls(queue_url, stream_poller(channels, handler or notifier.handler), boto3.client("sqs"))

    def deliver(self) -> list[Delivered]:
        """Run the stream to its end through the notifier; the messages that arrived since last time."""
        self.poller.poll_once()
        return self.drain()

    def drain(self) -> list[Delivered]:
        sqs = self.sqs
        new: list[Delivered] = []
        while True:
            messages = sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                attributes = {
                    name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()
                }
                new.append(Delivered(json.loads(message["Body"]), attributes, message["Body"]))
            sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
            )
        self.received += new
        return new


def expected_events(order: dict[str, Any]) -> list[tuple[str, str]]:
    """(event_id, event_type) of every §4 event an order's history says was published."""
    from orders.domain import told

    return [
        (f"{order['order_id']}:{version}", event.value)
        for version, entry in enumerate(order["history"], start=1)
        if (event := told(entry["event"], entry["to_status"])) is not None
        and event.value != "CANCELLATION_REQUEST_OVERDUE"  # the sweep's, which these orders never meet
    ]


# -- a faulty network in front of moto -------------------------------------------------------------


class Fault(Enum):
    PASS = "pass"  # forwarded to moto, its answer returned
    THROTTLE = "throttle"  # 400 ThrottlingException (DynamoDB) / Throttling (query protocols); nothing done
    UNAVAILABLE = "unavailable"  # 503 ServiceUnavailable; nothing done
    APPLY_AND_DROP = "apply_and_drop"  # forwarded to moto, then the connection closes with no answer


@dataclass
class Script:
    """The fault for each request in turn (then PASS), optionally only for some operations."""

    faults: list[Fault]
    operations: frozenset[str] | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def next_for(self, operation: str) -> Fault:
        if self.operations is not None and operation not in self.operations:
            return Fault.PASS
        with self._lock:
            return self.faults.pop(0) if self.faults else Fault.PASS


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _FaultyServer

    def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        operation = _operation(self.headers.get("X-Amz-Target"), body)
        fault = self.server.script.next_for(operation)
        self.server.log.append((operation, fault))
        if fault is Fault.THROTTLE:
            return self._error(
                400, "ThrottlingException" if self.server.service == "dynamodb" else "Throttling", "Rate exceeded"
            )
        if fault is Fault.UNAVAILABLE:
            return self._error(503, "ServiceUnavailable", "Service unavailable")
        status, headers, payload = self.server.forward(dict(self.headers), body)
        if fault is Fault.APPLY_AND_DROP:
            self.close_connection = True
            return
        data = payload.encode() if isinstance(payload, str) else payload or b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            if name.lower() not in ("content-length", "server", "date", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        if self.server.service == "dynamodb":
            body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()
            content_type = "application/x-amz-json-1.0"
        else:
            body = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
                "</Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
            ).encode()
            content_type = "text/xml"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def _operation(target: str | None, body: bytes) -> str:
    if target:
        return target.rsplit(".", 1)[-1]
    try:
        return parse_qs(body.decode()).get("Action", ["?"])[0]
    except UnicodeDecodeError:
        return "?"


class _FaultyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, service: str, script: Script):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.service = service
        self.script = script
        self.log: list[tuple[str, Fault]] = []

    def forward(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        """The request as moto (in this process) answers it, as if sent to the real endpoint."""
        from botocore.awsrequest import AWSPreparedRequest, HTTPHeaders
        from moto.core.models import botocore_stubber

        host = f"{self.service}.{os.environ['AWS_DEFAULT_REGION']}.amazonaws.com"
        headers = {name: value for name, value in headers.items() if name.lower() != "host"}
        request = AWSPreparedRequest(
            method="POST",
            url=f"https://{host}/",
            headers=HTTPHeaders.from_dict({**headers, "Host": host}),
            body=body,
            stream_output=False,
        )
        answer = botocore_stubber.process_request(request)
        assert answer is not None, f"moto does not answer {self.service}"
        return answer


@dataclass
class FaultyEndpoint:
    url: str
    script: Script
    log: list[tuple[str, Fault]]

    def faults(self) -> Counter[Fault]:
        return Counter(fault for _, fault in self.log if fault is not Fault.PASS)

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.log]


@contextmanager
def faulty(service: str, script: Script, monkeypatch: Any) -> Iterator[FaultyEndpoint]:
    """Point the functions' `service` client at a faulty endpoint for the duration of the block."""
    server = _FaultyServer(service, script)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    variable = f"AWS_ENDPOINT_URL_{service.upper()}"
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with monkeypatch.context() as patch:
            patch.setenv(variable, url)
            forget_clients()
            yield FaultyEndpoint(url, script, server.log)
    finally:
        forget_clients()
        server.shutdown()
        server.server_close()
