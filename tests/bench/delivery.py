"""Delivery latency of the delivery function, in process, for each functions/ tree (`--compare`): how long
each seller's event takes to reach its receiver when one seller's receiver in the batch is slow.

A process of its own per tree (`python -S -m tests.bench.delivery SPEC RESULT`, the tree first on
sys.path, DeliveryFunction's environment, the bench's moto server) registers 10 sellers' channels
through the tree's own NotificationChannelsFunction, each pointing at a loopback receiver in that
process, and then invokes the tree's DeliveryFunction handler with a batch of 10 events, one per
seller, as the delivery queue's event source would, timing each event's arrival at its receiver from
the invocation's start. One seller's receiver is slow, two ways:

- "answers in 2 s": it sleeps 2 s before its 200 (within every deadline); `rounds` batches after a
  warm-up batch (the first invocation imports the code and opens the connections);
- "trickles": its whole answer, status line included, one byte every 0.5 s (59 bytes: 29.5 s), once.

Timings on a shared machine, printed and never asserted.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from tests.bench.environment import Aws, MotoServer, run_module
from tests.bench.report import median, ms, table

SELLERS = 10
SLOW_SECONDS = 2.0


def _child(spec_path: str, result_path: str) -> None:
    from infra.local.webhook_receiver import Receiver, SlowReceiver
    from orders.handlers import deliver_notifications, notification_channels
    from tests.support.events import LambdaContext, rest_event

    spec = json.loads(Path(spec_path).read_text())
    prefix = f"S-DLV-{uuid.uuid4().hex[:6]}"
    sellers = [f"{prefix}-{number}" for number in range(SELLERS)]
    slow_seller = sellers[0]
    receiver = Receiver().start()
    receiver.script = lambda path, number: (time.sleep(SLOW_SECONDS) or 200) if path == f"/{slow_seller}" else 200
    trickler = SlowReceiver(mode="trickle", pace=0.5).start()

    def register(seller: str, url: str) -> str:
        event = rest_event("POST", "/notification-channels", body={"url": url}, seller_id=seller)
        answer = notification_channels.handler(event, LambdaContext(function_name="NotificationChannelsFunction"))
        if answer["statusCode"] != 201:
            raise RuntimeError(f"channel not created: {answer}")
        return str(json.loads(answer["body"])["channel_id"])

    def batch(tag: str) -> tuple[dict[str, Any], dict[str, str]]:
        events = {seller: _event(seller, f"{tag}-{number}") for number, seller in enumerate(sellers)}
        records = [_record(body) for body in events.values()]
        return {"Records": records}, {seller: body["event_id"] for seller, body in events.items()}

    def invoke(tag: str, slow_path: str) -> dict[str, Any]:
        event, event_ids = batch(tag)
        started = time.time()
        answer = deliver_notifications.handler(
            event, LambdaContext(function_name="DeliveryFunction", timeout_seconds=60)
        )
        returned = time.time() - started
        arrivals = {}
        for seller, event_id in event_ids.items():
            found = [d.received_at for d in receiver.deliveries if d.event_id == event_id]
            arrivals[seller] = (found[0] - started) if found else None
        failed = len(answer.get("batchItemFailures") or [])
        fast = [arrivals[seller] for seller in sellers if seller != slow_seller]
        return {
            "fast": [value for value in fast if value is not None],
            "fast_missing": sum(value is None for value in fast),
            "slow": arrivals[slow_seller] if slow_path == "receiver" else None,
            "returned": returned,
            "failed": failed,
        }

    for seller in sellers[1:]:
        register(seller, receiver.url(f"/{seller}"))
    slow_channel = register(slow_seller, receiver.url(f"/{slow_seller}"))
    invoke("warm-up", "receiver")
    rounds = [invoke(f"round-{number}", "receiver") for number in range(spec["rounds"])]

    # The trickling receiver instead of the slow one, for the last batch
    _delete_channel(notification_channels, slow_seller, slow_channel)
    register(slow_seller, trickler.url(f"/{slow_seller}"))
    trickle = invoke("trickle", "trickler")
    [held] = trickler.connections[-1:] or [None]
    if held is not None:
        left = held.left_at or time.time()
        trickle["slow"] = left - held.accepted_at
        trickle["slow_sent"] = held.sent
    receiver.stop()
    trickler.stop()
    Path(result_path).write_text(json.dumps({"rounds": rounds, "trickle": trickle}))


def _delete_channel(handlers: Any, seller: str, channel_id: str) -> None:
    from tests.support.events import LambdaContext, rest_event

    event = rest_event(
        "DELETE", "/notification-channels/{channel_id}", path_parameters={"channel_id": channel_id}, seller_id=seller
    )
    handlers.handler(event, LambdaContext(function_name="NotificationChannelsFunction"))


def _event(seller: str, tag: str) -> dict[str, Any]:
    """A §4 event of a cancelled order (the delivery reads nothing of the order itself)."""
    order_id = "ord_" + uuid.uuid5(uuid.NAMESPACE_URL, f"{seller}-{tag}").hex[:26].translate(
        str.maketrans("0189", "abcd")
    )
    return {
        "event_id": f"{order_id}:2",
        "event_type": "ORDER_CANCELLED",
        "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
        "order_id": order_id,
        "seller_id": seller,
        "reference": f"BENCH-{tag}",
        "order_version": 2,
        "status": "CANCELLED",
        "cancellation": {"option": "NONE", "unavailable_reason": "ORDER_CANCELLED", "request": None},
    }


def _record(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "bench",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {"seller_id": {"stringValue": body["seller_id"], "dataType": "String"}},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-2:123456789012:deliveries-bench",
        "awsRegion": "eu-west-2",
    }


def measure(trees: list[tuple[str, Path]], rounds: int) -> tuple[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    with MotoServer() as moto:
        aws = Aws(moto.url).create()
        for label, code in trees:
            results[label] = run_module(
                "tests.bench.delivery", code, "DeliveryFunction", moto.url, aws.topic_arn, {"rounds": rounds}
            )
    rows = []
    for label, found in results.items():
        every = found["rounds"]
        fast = [value * 1000 for run in every for value in run["fast"]]
        rows.append(
            [
                label,
                f"answers in {SLOW_SECONDS:g} s",
                f"{ms(median(fast))} / {ms(max(fast, default=float('nan')))}",
                ms(median([run["slow"] * 1000 for run in every if run["slow"] is not None])),
                ms(median([run["returned"] * 1000 for run in every])),
                sum(run["fast_missing"] for run in every) + sum(run["failed"] for run in every),
            ]
        )
        trickle = found["trickle"]
        trickle_fast = [value * 1000 for value in trickle["fast"]]
        rows.append(
            [
                label,
                "trickles (a byte every 0.5 s)",
                f"{ms(median(trickle_fast))} / {ms(max(trickle_fast, default=float('nan')))}",
                f"held {trickle['slow']:.1f} s, {trickle.get('slow_sent', '?')} of 59 bytes sent",
                ms(trickle["returned"] * 1000),
                trickle["fast_missing"] + trickle["failed"],
            ]
        )
    notes = [
        f"A batch of {SELLERS} events, one per seller, each seller with one channel on a loopback receiver in the "
        f"function's process; one seller's receiver slow. Arrival: from the invocation's start to the receiver's "
        f"record of the POST. 'answers in {SLOW_SECONDS:g} s': median of {rounds} batches after a warm-up batch "
        "(9 other sellers each: their median / their slowest); 'trickles': one batch.",
        "not done: other sellers' events that did not arrive, plus messages the invocation reported failed (the "
        "trickled one is reported failed, for a retry, when its POST is cut off at the deadline).",
        "Each tree runs in a process of its own with the tree first on sys.path, against the bench's moto server; "
        "DynamoDB is moto's here, so the requests' own time is the loopback's.",
    ]
    return table(
        "Delivery latency in process: a batch of 10 sellers' events, one receiver slow",
        ["tree", "slow receiver", "other sellers: median / max", "slow receiver", "invocation", "not done"],
        rows,
        notes,
    ), results


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
