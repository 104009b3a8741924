"""Cold init of every function in template.yaml, against the floor every handler pays anyway.

A cold start is a fresh interpreter that imports the handler module and serves its first event,
a realistic one that makes its real AWS call on the bench's moto server. The floor is a fresh
interpreter that imports boto3, creates the client the function needs and makes the same kind of
call. Both are timed from the inside (coldstart.py), run interleaved in a shuffled order every
round, and compared round by round; moto's recorder checks that each made exactly one request.
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.template import handlers
from tests.bench.environment import (
    FUNCTIONS,
    NOTIFICATIONS_TABLE,
    SELLER,
    TABLE,
    Aws,
    MotoServer,
    lambda_environment,
    lambda_layout,
    memory_size,
    stream_record,
)
from tests.bench.report import median, ms, ratio, table
from tests.support.api import NEW_ORDER
from tests.support.build import python_version, runtime_directory
from tests.support.commands import http_call, method_of
from tests.support.events import rest_event

COLDSTART = Path(__file__).with_name("coldstart.py")

# The command each command function's first event sends, and the state of the order it meets.
COMMANDS = {
    "CancelOrderFunction": ("cancel", "PENDING/-"),
    "EditOrderFunction": ("edit", "PENDING/-"),
    "RequestCancellationFunction": ("request", "SENT_TO_WAREHOUSE/-"),
    "WarehouseDecisionFunction": ("approve", "SENT_TO_WAREHOUSE/REQUESTED"),
    "WarehouseStatusFunction": ("PICKED", "SENT_TO_WAREHOUSE/-"),
    "SplitOrderFunction": ("split", "ON_BACKORDER/-"),
}
EXPECTED = {
    "CreateOrderFunction": 201,
    "ReadOrdersFunction": 200,
    "CancelOrderFunction": 200,
    "EditOrderFunction": 200,
    "RequestCancellationFunction": 202,
    "WarehouseDecisionFunction": 200,
    "WarehouseStatusFunction": 200,
    "SplitOrderFunction": 201,
    "NotifierFunction": {"batchItemFailures": []},
    "WarehouseReadFunction": 200,
    "NotificationChannelsFunction": 200,
    "NotificationsFeedFunction": 200,
    "DeliveryFunction": {"batchItemFailures": []},
    # The sweep's answer says what it did; on the bench's table, one request due and escalated.
    "BulkCancellationFunction": 200,
    "WarehouseBulkDecisionFunction": 200,
    "EscalationFunction": lambda answer: isinstance(answer, dict) and answer.get("complete") is True,
    "TrackingEventsFunction": 200,
    "ReadTrackingFunction": 200,
    "CourierCatalogueFunction": 200,
}
# docs/api.md §12: a batch of one courier event, as the warehouse system passes it on.
TRACKING_EVENT = {"event_id": "COLD-1", "status": "IN_TRANSIT", "occurred_at": "2026-11-26T09:15:00Z"}


@dataclass(frozen=True)
class Variant:
    """A code tree in a configuration: the code as it is, or as it was before a change."""

    label: str
    code: Path = FUNCTIONS
    tracing: bool = False
    # "makefile": the package functions/Makefile builds; "sam-default": the one SAM's own Python
    # builder would, whose bytecode never validates in /var/task (the zip's dates), so that Lambda
    # compiles every module at every cold start.
    build: str = "makefile"


@dataclass
class Measured:
    totals: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    framework_ratios: list[float] = field(default_factory=list)
    instructions: float = math.nan  # instructions executed, as a multiple of the floor's
    rss: list[float] = field(default_factory=list)
    requests: set[str] = field(default_factory=set)


@dataclass
class FirstCall:
    event: dict[str, Any]
    floor: dict[str, Any]  # service, operation, parameters


def first_call(function: str, aws: Aws, tag: str) -> FirstCall:
    """`function`'s first event (on fresh orders) and the floor's one call of the same kind."""
    if function == "CreateOrderFunction":
        event = rest_event("POST", "/orders", body={"reference": f"COLD-{tag}", **NEW_ORDER}, seller_id=SELLER)
        item = _raw_item(aws, aws.order_in("PENDING/-", f"COLD-FLOOR-{tag}"))
        item["order_id"] = {"S": item["order_id"]["S"][:-6] + "floor0"}
        return FirstCall(event, _dynamodb("put_item", TableName=TABLE, Item=item))
    if function == "ReadOrdersFunction":
        order = aws.order_in("PACKED/-", f"COLD-READ-{tag}")
        path = {"order_id": order["order_id"]}
        event = rest_event("GET", "/orders/{order_id}", path_parameters=path, seller_id=SELLER)
        return FirstCall(event, _dynamodb("get_item", TableName=TABLE, Key=_key(order), ConsistentRead=True))
    if function in COMMANDS:
        command, state = COMMANDS[function]
        order = aws.order_in(state, f"COLD-{function}-{tag}")
        resource, body, caller = http_call(command)
        identity: dict[str, Any] = {"seller_id": SELLER} if caller == "seller" else {"warehouse": True}
        path = {"order_id": order["order_id"]}
        event = rest_event(method_of(command), resource, path_parameters=path, body=body, **identity)
        floor_order = aws.order_in(state, f"COLD-FLOOR-{function}-{tag}")
        update = _dynamodb(
            "update_item",
            TableName=TABLE,
            Key=_key(floor_order),
            UpdateExpression="SET updated_at = :now",
            ExpressionAttributeValues={":now": {"S": datetime.now(UTC).isoformat()}},
            ReturnValues="ALL_NEW",
        )
        return FirstCall(event, update)
    if function in ("BulkCancellationFunction", "WarehouseBulkDecisionFunction"):
        return _bulk_first_call(function, aws, tag)
    if function == "WarehouseReadFunction":
        order = aws.order_in("PACKED/REQUESTED", f"COLD-WAREHOUSE-{tag}")
        path = {"order_id": order["order_id"]}
        event = rest_event("GET", "/warehouse/orders/{order_id}", path_parameters=path, warehouse=True)
        return FirstCall(event, _dynamodb("get_item", TableName=TABLE, Key=_key(order), ConsistentRead=True))
    if function in ("NotificationChannelsFunction", "NotificationsFeedFunction"):
        path = "/notification-channels" if function == "NotificationChannelsFunction" else "/notifications"
        event = rest_event("GET", path, seller_id=SELLER)
        return FirstCall(event, _feed_query())
    if function == "DeliveryFunction":
        return FirstCall(delivery_event(aws, tag), _feed_query())
    if function in ("TrackingEventsFunction", "ReadTrackingFunction"):
        order = aws.order_in("DESPATCHED/-", f"COLD-{function}-{tag}")
        path = {"order_id": order["order_id"]}
        if function == "TrackingEventsFunction":
            resource, body = "/warehouse/orders/{order_id}/tracking-events", {"events": [TRACKING_EVENT]}
            event = rest_event("POST", resource, path_parameters=path, body=body, warehouse=True)
        else:
            event = rest_event("GET", "/orders/{order_id}/tracking", path_parameters=path, seller_id=SELLER)
        return FirstCall(event, _dynamodb("get_item", TableName=TABLE, Key=_key(order), ConsistentRead=True))
    if function == "CourierCatalogueFunction":
        event = rest_event("GET", "/courier-services", seller_id=SELLER)
        return FirstCall(event, _feed_query())
    if function == "EscalationFunction":
        # The table holds what the earlier rounds left: escalated requests, off the sweep's index.
        floor = _dynamodb(
            "query",
            TableName=TABLE,
            IndexName="escalation-due",
            KeyConditionExpression="#queue = :queue AND escalation_due < :bound",
            ExpressionAttributeNames={"#queue": "queue"},
            ExpressionAttributeValues={
                ":queue": {"S": "CANCELLATION_REQUESTS"},
                ":bound": {"S": datetime.now(UTC).isoformat()},
            },
            Limit=100,
        )
        return FirstCall(scheduled_event(), floor)
    if function == "NotifierFunction":
        event = stream_event(aws, tag)
        image = event["Records"][0]["dynamodb"]["NewImage"]
        publish = {
            "service": "sns",
            "operation": "publish",
            "parameters": {
                "TopicArn": aws.topic_arn,
                "Message": json.dumps(image),
                "MessageAttributes": {
                    "event_type": {"DataType": "String", "StringValue": "ORDER_CANCELLED"},
                    "seller_id": {"DataType": "String", "StringValue": SELLER},
                },
            },
        }
        return FirstCall(event, publish)
    raise LookupError(f"no first event written for {function}: add it to tests/bench/cold.py")


def _bulk_first_call(function: str, aws: Aws, tag: str) -> FirstCall:
    """A bulk call of 10 orders (docs/api.md §13): a BatchGetItem, then 10 writes; the floor makes the read."""
    if function == "BulkCancellationFunction":
        orders = [aws.order_in("PENDING/-", f"COLD-BULK-{tag}-{n}") for n in range(10)]
        body: dict[str, Any] = {"order_ids": [order["order_id"] for order in orders]}
        event = rest_event("POST", "/bulk-cancellations", body=body, seller_id=SELLER)
    else:
        orders = [aws.order_in("PICKED/REQUESTED", f"COLD-DECIDE-{tag}-{n}") for n in range(10)]
        body = {"decisions": [{"order_id": order["order_id"], "decision": "APPROVED"} for order in orders]}
        event = rest_event("POST", "/warehouse/cancellation-decisions", body=body, warehouse=True)
    keys = {TABLE: {"Keys": [_key(order) for order in orders], "ConsistentRead": True}}
    return FirstCall(event, _dynamodb("batch_get_item", RequestItems=keys))


def _as_expected(function: str, answer: Any) -> bool:
    expected = EXPECTED[function]
    return expected(answer) if callable(expected) else answer == expected


def scheduled_event() -> dict[str, Any]:
    """What EventBridge sends a function with a Schedule event."""
    return {
        "version": "0",
        "id": "bench",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "eu-west-2",
        "resources": ["arn:aws:events:eu-west-2:123456789012:rule/bench"],
        "detail": {},
    }


def _feed_query() -> dict[str, Any]:
    return _dynamodb(
        "query",
        TableName=NOTIFICATIONS_TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"SELLER#{SELLER}"}},
        Limit=26,
    )


def delivery_event(aws: Aws, tag: str) -> dict[str, Any]:
    """An SQS batch of one new event, as the delivery queue's event source sends it (the seller has no channel)."""
    from orders.domain import Action, Event, Seller
    from tests.support.notifications import expected_delivery

    order = aws.order_in("PENDING/-", f"COLD-DELIVERY-{tag}")
    cancelled = aws.store.apply(order["order_id"], Action.CANCEL, Seller(SELLER)).order
    body = expected_delivery(cancelled, Event.ORDER_CANCELLED).body
    return {
        "Records": [
            {
                "messageId": f"bench-{tag}",
                "receiptHandle": "bench",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {"seller_id": {"stringValue": SELLER, "dataType": "String"}},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-2:123456789012:deliveries-bench",
                "awsRegion": "eu-west-2",
            }
        ]
    }


def stream_event(aws: Aws, tag: str) -> dict[str, Any]:
    """A DynamoDB stream batch of one cancellation, as the event source mapping delivers it."""
    from orders.domain import Action, Seller

    before = aws.order_in("PENDING/-", f"COLD-STREAM-{tag}")
    after = aws.store.apply(before["order_id"], Action.CANCEL, Seller(SELLER)).order
    return {"Records": [stream_record(before, after)]}


def _dynamodb(operation: str, **parameters: Any) -> dict[str, Any]:
    return {"service": "dynamodb", "operation": operation, "parameters": parameters}


def _key(order: dict[str, Any]) -> dict[str, Any]:
    return {"order_id": {"S": order["order_id"]}}


def _raw_item(aws: Aws, order: dict[str, Any]) -> dict[str, Any]:
    return aws.dynamodb.get_item(TableName=TABLE, Key=_key(order), ConsistentRead=True)["Item"]


# -- running one fresh interpreter -------------------------------------------------------------


def run(
    spec: dict[str, Any], environment: dict[str, str], *, python: str = sys.executable, count_instructions: bool = False
) -> dict[str, Any]:
    """One fresh interpreter; with `count_instructions`, under callgrind, which counts the instructions
    it executes: slow, but the same count every time, where this machine's timings are noisy. Run
    with -B: /var/task is read-only in Lambda, so a module whose bytecode does not validate is
    compiled at every cold start."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as directory:
        # The script runs from a directory of its own, so sys.path[0] holds nothing else.
        script = Path(directory) / "coldstart.py"
        shutil.copyfile(COLDSTART, script)
        (Path(directory) / "spec.json").write_text(json.dumps(spec))
        result = Path(directory) / "result.json"
        command = [python, "-S", "-B", str(script), "spec.json", str(result)]
        if count_instructions:
            command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command]
            environment = {**environment, "PYTHONHASHSEED": "0"}
        started = time.perf_counter()
        finished = subprocess.run(
            command, cwd=directory, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600
        )
        wall = (time.perf_counter() - started) * 1000
        if finished.returncode != 0:
            raise RuntimeError(f"cold start failed ({spec['kind']}):\n{finished.stderr.decode()[-3000:]}")
        measured = {**json.loads(result.read_text()), "wall_ms": wall}
        if count_instructions:
            [count] = re.findall(r"Collected : (\d+)", finished.stderr.decode())
            measured["instructions"] = int(count)
        return measured


# -- the section -----------------------------------------------------------------------------


FLOORS = ("floor", "frameworks")


def measure(
    variants: list[Variant],
    rounds: int,
    *,
    sam_default_functions: tuple[str, ...] = ("CancelOrderFunction",),
    only: tuple[str, ...] = (),
    count_instructions: bool = False,
    python: str = sys.executable,
) -> tuple[str, dict[str, Any]]:
    """The cold-start table, and per function the median cold init and floors (ms) of each variant."""
    functions = [name for name in handlers() if name in EXPECTED and (not only or name in only)]
    unknown = [name for name in handlers() if name not in EXPECTED]
    results: dict[tuple[str, str], Measured] = {}
    shuffle = random.Random(20261126)

    with MotoServer() as moto:
        aws = Aws(moto.url).create()

        def runs_of(function: str, tag: str) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
            """The floors and each variant, each with an event of its own on orders of its own."""
            runtime = str(runtime_directory(python))
            floor_environment = lambda_environment(function, code=FUNCTIONS, aws_url=moto.url, topic_arn=aws.topic_arn)
            floor_environment["PYTHONPATH"] = runtime
            call = first_call(function, aws, f"{tag}-f")
            runs = [("floor", {"kind": "floor", **call.floor}, floor_environment)]
            if function not in ("NotifierFunction", "DeliveryFunction"):  # no API event to serve
                event = {
                    **call.event,
                    "path": "/floor",
                    "resource": "/floor",
                    "httpMethod": "POST",
                    "pathParameters": None,
                    "body": None,
                }
                frameworks = {"kind": "frameworks", "event": event, "function": function, **call.floor}
                runs.append(
                    (
                        "frameworks",
                        frameworks,
                        {**floor_environment, "PYTHONPATH": lambda_layout(FUNCTIONS, "makefile", python).python_path},
                    )
                )
            for number, variant in enumerate(variants):
                if variant.build != "makefile" and function not in sam_default_functions:
                    continue
                layout = lambda_layout(variant.code, variant.build, python)
                environment = lambda_environment(
                    function, code=layout.task, aws_url=moto.url, topic_arn=aws.topic_arn, tracing=variant.tracing
                )
                environment["PYTHONPATH"] = layout.python_path
                spec = {
                    "kind": "handler",
                    "handler": handlers()[function],
                    "function": function,
                    "memory": memory_size(function),
                    "event": first_call(function, aws, f"{tag}-{number}").event,
                }
                runs.append((variant.label, spec, environment))
            return runs

        # One untimed round first: files in the page cache.
        for function in functions:
            for _, spec, environment in runs_of(function, "warmup"):
                run(spec, environment, python=python)

        for round_number in range(rounds):
            for function in functions:
                runs = runs_of(function, str(round_number))
                shuffle.shuffle(runs)
                timed: dict[str, dict[str, Any]] = {}
                for label, spec, environment in runs:
                    moto.start_recording()
                    timed[label] = run(spec, environment, python=python)
                    timed[label]["requests"] = ", ".join(moto.recorded()) or "none"
                    moto.stop_recording()
                    if label not in FLOORS and not _as_expected(function, timed[label]["answer"]):
                        raise RuntimeError(f"{function} ({label}) answered {timed[label]['answer']}")
                for label, result in timed.items():
                    measured = results.setdefault((function, label), Measured())
                    measured.totals.append(result["total_ms"])
                    measured.ratios.append(result["total_ms"] / timed["floor"]["total_ms"])
                    if "frameworks" in timed:
                        measured.framework_ratios.append(result["total_ms"] / timed["frameworks"]["total_ms"])
                    measured.rss.append(result["max_rss_mb"])
                    measured.requests.add(result["requests"])

        if count_instructions:
            for function in functions:
                counted = {
                    label: run(spec, environment, python=python, count_instructions=True)["instructions"]
                    for label, spec, environment in runs_of(function, "instructions")
                }
                for label, count in counted.items():
                    results[function, label].instructions = count / counted["floor"]

    rows = []
    for function in functions:
        floor = results[function, "floor"]
        frameworks = results.get((function, "frameworks"))
        for label in ["floor", "frameworks", *(variant.label for variant in variants)]:
            measured = results.get((function, label))
            if measured is None:
                continue
            rows.append(
                [
                    function,
                    label,
                    ms(median(measured.totals)),
                    ratio(median(measured.ratios)) if label != "floor" else "1",
                    ratio(median(measured.framework_ratios)) if frameworks and label != "floor" else "",
                    *([ratio(measured.instructions)] if count_instructions else []),
                    f"{median(measured.rss):.0f} MB",
                    " / ".join(sorted(measured.requests)),
                ]
            )
        del floor
    notes = [
        f"Median of {rounds} rounds; each round runs the floors and every variant once, in a shuffled order, and each "
        "ratio is the median of the round-by-round ratios.",
        "Times run from the fresh interpreter's first line to the first answer (import + first event); the "
        f"interpreter's own start-up is the same for all. Run by Python {python_version(python)}; "
        f"sys.path is Lambda's: /var/task (the package functions/Makefile "
        "builds for this machine, zipped as `sam package` zips it and unpacked with its dates) and /var/runtime (boto3 "
        "and its dependencies); run with -B, as /var/task is read-only.",
        "floor: `import boto3`, `boto3.client(...)`, one call of the same operation on an order of the same size. "
        "frameworks: Powertools' validating resolver, Logger, Metrics, a pydantic model and botocore's client "
        "serving one event with the same call: what any handler built on these frameworks pays.",
    ]
    if any(variant.tracing for variant in variants):
        notes.append(
            "tracing on: POWERTOOLS_TRACE_DISABLED=false with Lambda's X-Ray variables "
            "(TracingEnabled=true, the template's default)."
        )
    if any(variant.build != "makefile" for variant in variants):
        notes.append(
            "SAM's default build: /var/task as SAM's own Python builder would ship it (requirements.txt and all it "
            "requires, botocore included, and the code package), whose bytecode never validates (zip dates): every "
            "module it ships is compiled at each cold start."
        )
    if count_instructions:
        notes.append(
            "instructions × floor: instructions executed (valgrind's callgrind, one run each, PYTHONHASHSEED=0) as a "
            "multiple of the floor's: the same every run, where the timings here move with the machine's load."
        )
    if unknown:
        notes.append(f"Not measured (no first event written for them): {', '.join(unknown)}.")
    figures = {
        function: {label: median(measured.totals) for (name, label), measured in results.items() if name == function}
        | {"max_rss_mb": max((max(m.rss) for (name, _), m in results.items() if name == function), default=0)}
        for function in functions
    }
    return table(
        "Cold init: import + first event, fresh interpreter",
        [
            "function",
            "variant",
            "cold",
            "× floor",
            "× frameworks",
            *(["instructions × floor"] if count_instructions else []),
            "max RSS",
            "AWS requests (moto's recorder)",
        ],
        rows,
        notes,
    ), figures
