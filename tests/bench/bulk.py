"""Many orders at once (docs/api.md §13): 100 pending orders cancelled through one bulk call, against 100
single calls, in the same run, on the bench's moto server.

A process of its own (`python -S -m tests.bench.bulk SPEC RESULT`, in BulkCancellationFunction's Lambda
environment) imports both handlers, counts DynamoDB requests at the functions' own client, and each
round cancels 100 fresh pending orders with 100 POST /orders/{order_id}/cancel (one after the other, as a
client without a bulk route sends them) and 100 others with one POST /bulk-cancellations, in turn
first; then a dry run of 100. Handlers are called in process: neither side pays API Gateway or a network
hop per call here, which a real client of the single route pays 100 times.
"""

from __future__ import annotations

import collections
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from orders.bulk import WRITERS
from tests.bench.environment import FUNCTIONS, SELLER, Aws, MotoServer, run_module
from tests.bench.report import median, ms, ratio, table

ORDERS = 100
# A DynamoDB request's latency in the region, for the projection only (AWS: single-digit milliseconds).
LATENCY_SECONDS = 0.008


def _child(spec_path: str, result_path: str) -> None:
    from orders.handlers import bulk_cancel, cancel_order
    from orders.settings import dynamodb
    from tests.support.events import LambdaContext, rest_event

    spec = json.loads(Path(spec_path).read_text())
    aws = Aws(spec["aws_url"])
    counted: collections.Counter[str] = collections.Counter()
    dynamodb().meta.events.register("before-call.dynamodb", lambda model, **_: counted.update([model.name]))

    def fresh(tag: str) -> list[str]:
        return [aws.order_in("PENDING/-", f"BULK-{tag}-{n}")["order_id"] for n in range(ORDERS)]

    def singles(order_ids: list[str]) -> dict[str, Any]:
        counted.clear()
        started, cpu = time.perf_counter(), time.process_time()
        for order_id in order_ids:
            event = rest_event(
                "POST", "/orders/{order_id}/cancel", path_parameters={"order_id": order_id}, seller_id=SELLER
            )
            assert cancel_order.handler(event, LambdaContext())["statusCode"] == 200
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        return {"seconds": seconds, "cpu": cpu, "requests": dict(counted)}

    def bulk(order_ids: list[str], dry_run: bool = False) -> dict[str, Any]:
        counted.clear()
        started, cpu = time.perf_counter(), time.process_time()
        event = rest_event(
            "POST", "/bulk-cancellations", body={"order_ids": order_ids, "dry_run": dry_run}, seller_id=SELLER
        )
        # The time left counts down from the invocation's start.
        context = LambdaContext(function_name="BulkCancellationFunction", timeout_seconds=spec["timeout"])
        response = bulk_cancel.handler(event, context)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        body = json.loads(response["body"])
        assert response["statusCode"] == 200 and body["summary"]["cancelled"] == ORDERS, body["summary"]
        return {"seconds": seconds, "cpu": cpu, "requests": dict(counted), "bytes": len(response["body"])}

    rounds = []
    for number in range(spec["rounds"]):
        first, second = fresh(f"{number}-single"), fresh(f"{number}-bulk")
        if number % 2:
            done = {"bulk": bulk(second), "single": singles(first)}
        else:
            done = {"single": singles(first), "bulk": bulk(second)}
        done["dry"] = bulk(fresh(f"{number}-dry"), dry_run=True)
        rounds.append(done)
    Path(result_path).write_text(json.dumps(rounds))


def _requests(counts: dict[str, int]) -> str:
    return " + ".join(f"{count} {name}" for name, count in sorted(counts.items())) or "none"


def measure(code: Path = FUNCTIONS, rounds: int = 3) -> tuple[str, dict[str, Any]]:
    from infra.template import template

    timeout = template()["Resources"]["BulkCancellationFunction"]["Properties"]["Timeout"]
    with MotoServer() as moto:
        aws = Aws(moto.url).create()
        measured = run_module(
            "tests.bench.bulk",
            code,
            "BulkCancellationFunction",
            moto.url,
            aws.topic_arn,
            {"rounds": rounds, "timeout": timeout},
        )
    figures: dict[str, Any] = {"rounds": measured}
    rows = []
    for key, label in (
        ("single", f"{ORDERS} × POST /orders/{{order_id}}/cancel"),
        ("bulk", "1 × POST /bulk-cancellations"),
        ("dry", "1 × POST /bulk-cancellations, dry run"),
    ):
        seconds = median([r[key]["seconds"] for r in measured])
        cpu = median([r[key]["cpu"] for r in measured])
        figures[key] = {"seconds": seconds, "cpu": cpu}
        rows.append([label, ms(seconds * 1000), ms(cpu * 1000), _requests(measured[0][key]["requests"])])
    for row, key in zip(rows, ("single", "bulk", "dry"), strict=True):
        row.insert(2, ratio(figures[key]["seconds"] / figures["single"]["seconds"]))
    # On DynamoDB: each request waits LATENCY instead of moto's time; the function's own CPU is as measured.
    single = figures["single"]["cpu"] + ORDERS * LATENCY_SECONDS
    bulk = figures["bulk"]["cpu"] + LATENCY_SECONDS * (1 + math.ceil(ORDERS / WRITERS))
    figures["projected"] = {"single": single, "bulk": bulk}
    notes = [
        f"{ORDERS} pending orders each way, fresh every round; median of {rounds} rounds, which one goes first "
        "alternating. Handlers called in process on this machine's moto server (no API Gateway, no network hop "
        "per call: a real client pays those 100 times on the single route and once on the bulk route). "
        "CPU: the function's own process time (the moto server's is not in it).",
        "On moto the ratio is moto's: its server handles one request at a time, at tens of milliseconds of CPU "
        "each, so 10 writes in flight wait for each other there. On DynamoDB (each request about "
        f"{LATENCY_SECONDS * 1000:.0f} ms, several at once), from the CPU measured here: 100 single calls "
        f"{ms(single * 1000)}, one bulk call {ms(bulk * 1000)} ({ratio(bulk / single)}; a projection, not a "
        "measurement: CPU + one read + 100 writes 10 at a time).",
        f"The bulk answer holds every order as GET shows it: {measured[0]['bulk']['bytes'] / 1024:.0f} KB "
        f"for {ORDERS}.",
        f"BulkCancellationFunction's Timeout is {timeout} s; the bulk call took "
        f"{figures['bulk']['seconds']:.2f} s here.",
    ]
    header = ["calls", "wall time", "× single", "CPU", "DynamoDB requests"]
    return table(f"Many orders at once: {ORDERS} cancellations", header, rows, notes), figures


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
