"""Local API throughput and notification latency, on the local stack (`make run`, in its own process).

Throughput: a few client threads in this process send requests back to back for a few seconds
(a closed loop), through the stack's API (authorizer, API Gateway emulation, handler, moto),
and then the same DynamoDB request straight to the stack's moto server, so the ratio says what
the whole path costs over the request it cannot avoid. The runs alternate and repeat.

Latency: one cancellation at a time; from its HTTP response to the SNS message reaching an SQS
queue subscribed to the topic (the message's SentTimestamp, stamped by SQS when it arrives).
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.bench.environment import Aws
from tests.bench.report import median, percentile, table

CLIENT_THREADS = 4


class Stack:
    """The local stack (tests.support.local_stack), a seller with a token, and its table from this side."""

    def __init__(self) -> None:
        from tests.support.local_stack import Portal, start_stack

        self.log = Path(tempfile.mkdtemp(prefix="bench-stack-")) / "orders-local.log"
        self.running = start_stack(self.log)
        self.seller = f"S-LOAD-{uuid.uuid4().hex[:6]}"
        self.portal = Portal(self.running.api_url, self.seller)
        probe = Aws(self.running.aws_url)
        [table] = [name for name in probe.dynamodb.list_tables()["TableNames"] if name.endswith("-OrdersTable")]
        self.aws = Aws(self.running.aws_url, table)

    def stop(self) -> None:
        self.running.stop()

    def settle(self, busy: float = 0.2, window: float = 0.5, timeout: float = 60) -> None:
        """Wait until the stack's process is near idle: the stream of earlier writes drained, notified."""

        def cpu_seconds() -> float:
            fields = Path(f"/proc/{self.running.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = cpu_seconds()
            time.sleep(window)
            if cpu_seconds() - before < busy * window:
                return

    def pending_orders(self, count: int) -> list[str]:
        """`count` new PENDING orders of the seller, written straight to the table (4 threads)."""
        prefix = uuid.uuid4().hex[:6]
        with ThreadPoolExecutor(4) as pool:
            return list(
                pool.map(
                    lambda number: self.aws.order_in("PENDING/-", f"LOAD-{prefix}-{number}", self.seller)["order_id"],
                    range(count),
                )
            )


def closed_loop(
    send: Callable[[Any, str], bool], make_session: Callable[[], Any], order_ids: list[str], seconds: float
) -> tuple[float, int]:
    """(requests per second, failures): CLIENT_THREADS threads sending back to back for `seconds`."""
    sessions = [make_session() for _ in range(CLIENT_THREADS)]  # made before the clock starts
    next_order = itertools.cycle(order_ids).__next__
    lock = threading.Lock()
    counts = [0] * CLIENT_THREADS
    failures = [0] * CLIENT_THREADS
    start = threading.Barrier(CLIENT_THREADS + 1)
    deadline = [0.0]

    def worker(number: int) -> None:
        session = sessions[number]
        start.wait()
        while time.perf_counter() < deadline[0]:
            with lock:
                order_id = next_order()
            if send(session, order_id):
                counts[number] += 1
            else:
                failures[number] += 1

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - began), sum(failures)


def throughput(stack: Stack, seconds: float, repeats: int) -> tuple[str, dict[str, Any]]:
    from orders.domain import Action, Seller
    from tests.support.local_stack import session

    api, token, seller = stack.running.api_url, stack.portal.token, Seller(stack.seller)
    headers = {"Authorization": token}
    expected_rate = 150  # orders per second at most, to have a fresh PENDING order for every cancel
    fresh = {kind: stack.pending_orders(int(expected_rate * seconds * repeats)) for kind in ("api", "raw")}
    readable = fresh["api"][:50]
    cancel_queue = {kind: iter(ids) for kind, ids in fresh.items()}

    def api_cancel(http: Any, _: str) -> bool:
        order_id = next(cancel_queue["api"], readable[0])
        return http.post(f"{api}/orders/{order_id}/cancel", headers=headers, timeout=10).status_code == 200

    def api_get(http: Any, order_id: str) -> bool:
        return http.get(f"{api}/orders/{order_id}", headers=headers, timeout=10).status_code == 200

    def raw_update(store: Any, _: str) -> bool:
        store.apply(next(cancel_queue["raw"], readable[0]), Action.CANCEL, seller)
        return True

    def raw_get(store: Any, order_id: str) -> bool:
        store.get(order_id, seller)
        return True

    def new_store() -> Any:
        from orders.store import OrderStore

        return OrderStore(stack.aws.table, client=stack.aws.client("dynamodb"))

    runs = {
        "cancel": (("API", api_cancel, session), ("raw UpdateItem", raw_update, new_store)),
        "get": (("API", api_get, session), ("raw GetItem", raw_get, new_store)),
    }
    rates: dict[tuple[str, str], list[float]] = {}
    ratios: dict[str, list[float]] = {}
    failures = 0
    for _ in range(repeats):
        for command, pair in runs.items():
            measured = []
            for label, send, make in pair:
                stack.settle()
                rate, failed = closed_loop(send, make, readable, seconds)
                failures += failed
                rates.setdefault((command, label), []).append(rate)
                measured.append(rate)
            ratios.setdefault(command, []).append(measured[0] / measured[1])
    leftover = {kind: sum(1 for _ in queue) for kind, queue in cancel_queue.items()}
    rows = [
        [
            command,
            f"{median(rates[command, 'API']):.0f}/s",
            f"{median(rates[command, pair[1][0]]):.0f}/s ({pair[1][0]})",
            f"{median(ratios[command]):.2f}",
        ]
        for command, pair in runs.items()
    ]
    notes = [
        f"Median of {repeats} runs of {seconds:g} s each, API and raw alternating; {CLIENT_THREADS} "
        f"client threads in the "
        "bench's process, the stack in its own; both share this machine's CPUs.",
        "API: HTTP with the seller's ID token through the local API Gateway (Cognito check), the handler and moto. "
        "Raw: the same request the store sends, straight to the stack's moto.",
        "Cancels meet a fresh PENDING order each (a real cancellation, so the stream and the notifier work too)"
        + (
            "."
            if all(leftover.values())
            else "; some runs ran out of fresh orders and met cancelled ones (200 unchanged)."
        ),
    ]
    if failures:
        notes.append(f"{failures} requests failed.")
    figures = {"rates": {f"{command} {label}": median(values) for (command, label), values in rates.items()}}
    return table(
        "Local throughput: API against its floor on the same moto",
        ["command", "API", "floor", "API / floor"],
        rows,
        notes,
    ), figures


def latency(stack: Stack, samples: int) -> tuple[str, dict[str, Any]]:
    """From a cancellation's response to its SNS message in a subscribed SQS queue, and to the seller's webhook."""
    from infra.local.webhook_receiver import Receiver

    receiver = Receiver().start()
    registered = stack.portal.request("POST", "/notification-channels", {"url": receiver.url("/bench")})
    assert registered.status_code == 201, registered.text
    receiver.secrets["/bench"] = registered.json()["secret"]
    sqs, sns = stack.aws.client("sqs"), stack.aws.client("sns")
    queue_url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topics = [topic["TopicArn"] for topic in sns.list_topics()["Topics"]]
    for topic_arn in topics:
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"seller_id": [stack.seller]})},
        )
    order_ids = stack.pending_orders(samples)
    http = stack.portal.http
    delays: list[float] = []
    webhook_delays: list[float] = []
    lost = webhooks_lost = 0
    for order_id in order_ids:
        answer = http.post(
            f"{stack.running.api_url}/orders/{order_id}/cancel",
            headers={"Authorization": stack.portal.token},
            timeout=10,
        )
        answered = time.time()
        assert answer.status_code == 200, answer.text
        deadline = time.monotonic() + 10
        arrived = None
        while arrived is None and time.monotonic() < deadline:
            for message in sqs.receive_message(
                QueueUrl=queue_url, WaitTimeSeconds=2, MaxNumberOfMessages=10, AttributeNames=["SentTimestamp"]
            ).get("Messages", []):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                if json.loads(message["Body"]).get("order_id") == order_id:
                    arrived = int(message["Attributes"]["SentTimestamp"]) / 1000
        if arrived is None:
            lost += 1
        else:
            delays.append((arrived - answered) * 1000)
        received = None
        while received is None and time.monotonic() < deadline + 10:
            received = next((d.received_at for d in receiver.of("/bench") if d.event_id == f"{order_id}:2"), None)
            if received is None:
                time.sleep(0.01)
        if received is None:
            webhooks_lost += 1
        else:
            webhook_delays.append((received - answered) * 1000)
    receiver.stop()
    unsigned = sum(not d.signature_valid for d in receiver.deliveries)
    rows = [
        [
            f"ORDER_CANCELLED, {name}",
            len(found),
            f"{percentile(found, 0.5):.0f} ms",
            f"{percentile(found, 0.99):.0f} ms",
            f"{max(found):.0f} ms",
        ]
        for name, found in (("SQS subscriber", delays), ("seller's webhook", webhook_delays))
    ]
    notes = [
        f"{samples} cancellations one after another; lost (none within 10 s): {lost} at the queue, "
        f"{webhooks_lost} at the webhook ({unsigned} with a bad signature).",
        "The webhook: the topic, DeliveryQueue, the delivery function (polled as its event source mapping would, "
        "short polls 0.2 s apart) and a signed POST to a receiver in the bench's process, timed at its arrival.",
        "Locally the stream poller reads each shard every 0.2 s (infra/local/stream_poller.py), as Lambda's event "
        "source mapping polls a DynamoDB stream shard about four times a second; SQS stamps SentTimestamp in "
        "milliseconds.",
    ]
    return table(
        "Notification latency: command answered → message in a subscribed SQS queue, → the seller's webhook",
        ["event", "samples", "p50", "p99", "max"],
        rows,
        notes,
    ), {
        "p50_ms": percentile(delays, 0.5),
        "p99_ms": percentile(delays, 0.99),
        "webhook_p50_ms": percentile(webhook_delays, 0.5),
        "webhook_p99_ms": percentile(webhook_delays, 0.99),
    }
