"""Warm overhead per invocation with AWS stubbed out: Powertools, validation and our code, nothing else.

Each function runs in a process of its own (as in Lambda, where a module registers only its own
routes), `python -S -m tests.bench.warm SPEC RESULT`. For every scenario the process first sends
the command once for real to the moto server and records what DynamoDB (moto) answered; then the
store's client is replaced by `Replay`, which gives those answers back instantly, and the handler
is invoked in batches. Handlers log to stdout as in Lambda: stdout goes to a file, whose growth
gives the bytes logged per invocation (CloudWatch Logs ingestion, in the cost section).

With `durations`, the process also times the commands of the cost section, and every other route of
the order, against moto itself: wall time and this process's CPU time per invocation (moto runs in
another process). `persist` writes their medians to docs/lambda-durations.json for `make capacity`.
"""

from __future__ import annotations

import copy
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.environment import SELLER, Aws, MotoServer, run_module, stream_record
from tests.bench.report import median, table, us

# -- the scenarios ---------------------------------------------------------------------------


def _fifty_courier_events() -> list[dict[str, Any]]:
    """A batch of 50 scans of a parcel in transit, the last out for delivery (one courier status change)."""
    return [
        {
            "event_id": f"WARM-{number:03}",
            "status": "OUT_FOR_DELIVERY" if number == 49 else "IN_TRANSIT",
            "occurred_at": f"2026-11-26T{8 + number // 60:02}:{number % 60:02}:00Z",
            "location": f"Depot {number}",
            "description": "Parcel scanned",
        }
        for number in range(50)
    ]


@dataclass(frozen=True)
class Scenario:
    name: str
    function: str
    route: str  # method and resource, or the trigger
    state: str | None  # the contract state of the order it meets (None: no order)
    command: str | None  # a contract command, or None for the routes that read or create
    expected: Any
    other_seller: bool = False


SCENARIOS = (
    Scenario("create", "CreateOrderFunction", "POST /orders", None, None, 201),
    Scenario("create, reference exists", "CreateOrderFunction", "POST /orders", "PENDING/-", None, 200),
    Scenario("create, invalid body", "CreateOrderFunction", "POST /orders", None, None, 400),
    Scenario("get", "ReadOrdersFunction", "GET /orders/{order_id}", "PACKED/REQUESTED", None, 200),
    Scenario("get, another seller's", "ReadOrdersFunction", "GET /orders/{order_id}", "PENDING/-", None, 404, True),
    Scenario("list, page of 25", "ReadOrdersFunction", "GET /orders", None, None, 200),
    Scenario("cancel", "CancelOrderFunction", "POST .../cancel", "PENDING/-", "cancel", 200),
    Scenario("cancel, refused", "CancelOrderFunction", "POST .../cancel", "PACKED/-", "cancel", 409),
    Scenario("edit", "EditOrderFunction", "PATCH /orders/{order_id}", "PENDING/-", "edit", 200),
    Scenario("edit, refused", "EditOrderFunction", "PATCH /orders/{order_id}", "PACKED/-", "edit", 409),
    Scenario("request", "RequestCancellationFunction", "POST .../cancellation-request", "PACKED/-", "request", 202),
    Scenario(
        "approve", "WarehouseDecisionFunction", "POST .../cancellation-decision", "PACKED/REQUESTED", "approve", 200
    ),
    Scenario(
        "reject, refused", "WarehouseDecisionFunction", "POST .../cancellation-decision", "PACKED/-", "reject", 409
    ),
    Scenario("status PICKED", "WarehouseStatusFunction", "POST .../status", "SENT_TO_WAREHOUSE/-", "PICKED", 200),
    Scenario(
        "status DESPATCHED, pending request",
        "WarehouseStatusFunction",
        "POST .../status",
        "PACKED/REQUESTED",
        "DESPATCHED",
        200,
    ),
    Scenario("split", "SplitOrderFunction", "POST .../split", "ON_BACKORDER/-", "split", 201),
    Scenario(
        "tracking events, batch of 50", "TrackingEventsFunction", "POST .../tracking-events", "DESPATCHED/-", None, 200
    ),
    Scenario("split, refused", "SplitOrderFunction", "POST .../split", "PENDING/-", "split", 409),
    Scenario("status ON_BACKORDER", "WarehouseStatusFunction", "POST .../status", "PENDING/-", "ON_BACKORDER", 200),
    Scenario(
        "notify one change", "NotifierFunction", "stream batch of 1", "PENDING/-", "cancel", {"batchItemFailures": []}
    ),
)

HANDLERS = {
    "CreateOrderFunction": "orders.handlers.create_order",
    "ReadOrdersFunction": "orders.handlers.read_orders",
    "CancelOrderFunction": "orders.handlers.cancel_order",
    "EditOrderFunction": "orders.handlers.edit_order",
    "RequestCancellationFunction": "orders.handlers.request_cancellation",
    "WarehouseDecisionFunction": "orders.handlers.warehouse_decision",
    "WarehouseStatusFunction": "orders.handlers.warehouse_status",
    "SplitOrderFunction": "orders.handlers.split_order",
    "TrackingEventsFunction": "orders.handlers.tracking_events",
    "NotifierFunction": "orders.handlers.notifier",
}
# The commands whose duration on moto the cost section needs (a cancellation, and a request plus its
# approval), and those `make capacity` needs besides (the order's other routes): timed on moto, persisted
# in docs/lambda-durations.json. `state` None: no order of its own (a create, a page of the listing).
DURATIONS = (
    ("cancel", "CancelOrderFunction", "PENDING/-", "cancel"),
    ("request", "RequestCancellationFunction", "PACKED/-", "request"),
    ("approve", "WarehouseDecisionFunction", "PACKED/REQUESTED", "approve"),
    ("notify", "NotifierFunction", "PENDING/-", "cancel"),
    ("create", "CreateOrderFunction", None, None),
    ("get", "ReadOrdersFunction", "PACKED/-", None),
    ("list", "ReadOrdersFunction", None, None),
    ("edit", "EditOrderFunction", "PENDING/-", "edit"),
    ("move", "WarehouseStatusFunction", "SENT_TO_WAREHOUSE/-", "PICKED"),
    ("notify_plain", "NotifierFunction", "SENT_TO_WAREHOUSE/-", "PICKED"),
)
# Stream records in one timed batch: plain moves (they tell nobody, and are most of the stream) ten at a
# time, as the stream hands them over under load; `notify` is one notifiable record, a Publish.
RECORDS = {"notify_plain": 10}
PERSISTED = Path(__file__).resolve().parents[2] / "docs" / "lambda-durations.json"


class Replay:
    """Stands in for an AWS client: each call gets the next recorded answer, at once (cycling)."""

    def __init__(self, answers: list[tuple[str, dict[str, Any]]]):
        self._answers = answers
        self._next = 0

    def __getattr__(self, operation: str) -> Callable[..., dict[str, Any]]:
        def call(**_: Any) -> dict[str, Any]:
            from botocore.exceptions import ClientError

            name, parsed = self._answers[self._next % len(self._answers)]
            self._next += 1
            if "Error" in parsed:
                raise ClientError(parsed, name)
            return parsed

        return call


# -- inside the measuring process ------------------------------------------------------------


class Bench:
    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        self.aws = Aws(spec["aws_url"])
        self.aws.topic_arn = spec["topic_arn"]
        import importlib

        self.module = importlib.import_module(HANDLERS[spec["function"]])
        from tests.support.events import LambdaContext

        self.context = LambdaContext(function_name=spec["function"])
        self.tag = f"{os.getpid()}"

    def event(self, scenario_or_command: Scenario | str, order: dict[str, Any] | None) -> dict[str, Any]:
        from tests.support.api import NEW_ORDER
        from tests.support.commands import http_call, method_of
        from tests.support.events import rest_event

        scenario = scenario_or_command if isinstance(scenario_or_command, Scenario) else None
        command = scenario.command if scenario else scenario_or_command
        if self.spec["function"] == "NotifierFunction":
            return self.stream_event(order)
        if command:
            resource, body, caller = http_call(command)
            identity: dict[str, Any] = {"seller_id": SELLER} if caller == "seller" else {"warehouse": True}
            path = {"order_id": order["order_id"]}
            return rest_event(method_of(command), resource, path_parameters=path, body=body, **identity)
        assert scenario is not None
        if scenario.name == "create":
            return rest_event("POST", "/orders", body={"reference": f"WARM-{self.tag}", **NEW_ORDER}, seller_id=SELLER)
        if scenario.name == "create, reference exists":
            return rest_event("POST", "/orders", body={"reference": order["reference"], **NEW_ORDER}, seller_id=SELLER)
        if scenario.name == "create, invalid body":
            body = {**NEW_ORDER, "reference": "WARM-BAD", "items": [{"sku": "X", "quantity": "2"}]}
            return rest_event("POST", "/orders", body=body, seller_id=SELLER)
        if scenario.name == "list, page of 25":
            return rest_event("GET", "/orders", seller_id=f"{SELLER}-LIST")
        if scenario.name == "tracking events, batch of 50":
            return rest_event(
                "POST",
                "/warehouse/orders/{order_id}/tracking-events",
                path_parameters={"order_id": order["order_id"]},
                body={"events": _fifty_courier_events()},
                warehouse=True,
            )
        seller = f"{SELLER}-OTHER" if scenario.other_seller else SELLER
        return rest_event(
            "GET", "/orders/{order_id}", path_parameters={"order_id": order["order_id"]}, seller_id=seller
        )

    def stream_event(self, order: dict[str, Any], command: str = "cancel") -> dict[str, Any]:
        """The change `command` makes to `order`, as the stream delivers it to the notifier."""
        return self.stream_batch([order], command)

    def stream_batch(self, orders: list[dict[str, Any]], command: str) -> dict[str, Any]:
        """The changes `command` makes to each of `orders`, one stream batch."""
        from orders.domain import WAREHOUSE, Seller
        from tests.support.commands import ACTIONS, SELLER_COMMANDS

        caller = Seller(SELLER) if command in SELLER_COMMANDS else WAREHOUSE
        changed = [(order, self.aws.store.apply(order["order_id"], ACTIONS[command], caller).order) for order in orders]
        return {"Records": [stream_record(before, after) for before, after in changed]}

    def prepare(self, scenario: Scenario) -> tuple[dict[str, Any], Replay | None]:
        """The scenario's event, and the recorded answers of its one real run (None if it made no call)."""
        order = None
        if scenario.state:
            order = self.aws.order_in(scenario.state, f"WARM-{self.tag}-{scenario.name}")
        if scenario.name == "list, page of 25":
            for number in range(30):
                self.aws.order_in("PENDING/-", f"WARM-{self.tag}-list-{number}", seller_id=f"{SELLER}-LIST")
        event = self.event(scenario, order)
        answers: list[tuple[str, dict[str, Any]]] = []
        client = self.real_client()

        def record(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
            answers.append((model.name, copy.deepcopy(parsed)))

        client.meta.events.register("after-call.*", record)
        try:
            answer = self.module.handler(copy.deepcopy(event), self.context)
        finally:
            client.meta.events.unregister("after-call.*", record)
        _check(scenario, answer)
        return event, Replay(answers) if answers else None

    def real_client(self) -> Any:
        from orders import settings

        return settings.sns() if self.spec["function"] == "NotifierFunction" else settings.dynamodb()

    def replaced(self, replay: Replay | None) -> Any:
        """The store's (or the notifier's) AWS client replaced by the replay, for as long as it lasts."""
        from unittest import mock

        if self.spec["function"] == "NotifierFunction":
            return mock.patch.object(self.module, "sns", lambda: replay)
        from orders.store import OrderStore

        return mock.patch.object(OrderStore, "client", replay)

    def warm(self) -> dict[str, Any]:
        scenarios = [scenario for scenario in SCENARIOS if scenario.function == self.spec["function"]]
        prepared = {scenario.name: self.prepare(scenario) for scenario in scenarios}
        timings: dict[str, list[float]] = {scenario.name: [] for scenario in scenarios}
        logged: dict[str, list[float]] = {scenario.name: [] for scenario in scenarios}
        count = self.spec["invocations"]
        for batch in range(1 + self.spec["batches"]):  # the first batch warms up and is not kept
            for scenario in random.sample(scenarios, len(scenarios)):
                event, replay = prepared[scenario.name]
                events = [copy.deepcopy(event) for _ in range(count)]
                handler, context = self.module.handler, self.context
                with self.replaced(replay):
                    _check(scenario, handler(copy.deepcopy(event), context))
                    sys.stdout.flush()
                    before = os.fstat(1).st_size
                    # CPU time of this process: the handler is all CPU here, and another process
                    # taking the core (this machine is shared) does not count against it.
                    started = time.process_time_ns()
                    for each in events:
                        handler(each, context)
                    elapsed = time.process_time_ns() - started
                    sys.stdout.flush()
                if batch:
                    timings[scenario.name].append(elapsed / count / 1000)
                    logged[scenario.name].append((os.fstat(1).st_size - before) / count)
        return {"timings": timings, "logged_bytes": logged}

    def duration_event(self, name: str, command: str | None, order: dict[str, Any] | None, number: int) -> Any:
        """The event of one timed invocation: a contract command on `order`, or a create, a read, a page."""
        from tests.support.api import NEW_ORDER
        from tests.support.events import rest_event

        if command:
            return self.event(command, order)
        if name == "create":
            body = {"reference": f"DURATION-{self.tag}-create-{number}", **NEW_ORDER}
            return rest_event("POST", "/orders", body=body, seller_id=SELLER)
        if name == "list":
            return rest_event("GET", "/orders", seller_id=f"{SELLER}-DURATION-LIST")
        assert order is not None
        return rest_event(
            "GET", "/orders/{order_id}", path_parameters={"order_id": order["order_id"]}, seller_id=SELLER
        )

    def durations(self) -> dict[str, Any]:
        """Wall and CPU time per invocation of the function's timed commands (DURATIONS), on moto itself."""
        found: dict[str, Any] = {}
        for name, function, state, command in DURATIONS:
            if function != self.spec["function"]:
                continue
            if name == "list":  # a full page of 25, and more after it
                for number in range(30):
                    self.aws.order_in("PENDING/-", f"DURATION-{self.tag}-list-{number}", f"{SELLER}-DURATION-LIST")
            if name in RECORDS:
                events = [
                    self.stream_batch(
                        [
                            self.aws.order_in(state, f"DURATION-{self.tag}-{name}-{number}-{record}")
                            for record in range(RECORDS[name])
                        ],
                        command,
                    )
                    for number in range(self.spec["durations"] + 1)
                ]
                orders: list[dict[str, Any] | None] = [None]
            else:
                orders = [
                    self.aws.order_in(state, f"DURATION-{self.tag}-{name}-{number}") if state else None
                    for number in range(self.spec["durations"] + 1)
                ]
                events = [self.duration_event(name, command, order, number) for number, order in enumerate(orders)]
            walls, cpus, logged = [], [], []
            for number, event in enumerate(events):
                sys.stdout.flush()
                before_bytes = os.fstat(1).st_size
                wall, cpu = time.perf_counter(), time.process_time()
                self.module.handler(event, self.context)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                sys.stdout.flush()
                if number:  # the first pays for connecting
                    walls.append(wall * 1000)
                    cpus.append(cpu * 1000)
                    logged.append(os.fstat(1).st_size - before_bytes)
            found[name] = {
                "function": function,
                "records": RECORDS.get(name, 1),
                "wall_ms": walls,
                "cpu_ms": cpus,
                "logged_bytes": logged,
            }
            last = orders[-1]
            if last is not None:
                from orders.domain import WAREHOUSE

                found[name].update(item_before=last, item_after=self.aws.store.get(last["order_id"], WAREHOUSE))
        return found


def _check(scenario: Scenario, answer: Any) -> None:
    got = answer.get("statusCode", answer) if isinstance(answer, dict) else answer
    if got != scenario.expected:
        raise RuntimeError(f"{scenario.function} / {scenario.name}: expected {scenario.expected}, got {answer}")


def persist(durations: dict[str, Any], path: Path = PERSISTED) -> None:
    """The durations measured in this run into `path` (docs/lambda-durations.json), for `make capacity`:
    medians of CPU and wait per invocation, the bytes logged; those not measured in this run are kept."""
    import subprocess

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=path.parent
    ).stdout.strip()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    kept = json.loads(path.read_text())["durations"] if path.exists() else {}
    for name, measured in durations.items():
        wall, cpu = median(measured["wall_ms"]), median(measured["cpu_ms"])
        kept[name] = {
            "function": measured["function"],
            "records": measured.get("records", 1),
            "cpu_ms": round(cpu, 3),
            "wait_ms": round(max(0.0, wall - cpu), 3),
            "logged_bytes": round(median(measured["logged_bytes"])),
            "samples": len(measured["wall_ms"]),
            "measured_at": stamp,
            "commit": commit,
        }
    document = {
        "about": (
            "Warm invocations timed by `make bench` (tests/bench/warm.py, durations) on moto over loopback: "
            "the median CPU time and wait on AWS per invocation (of `records` stream records for the notifier), "
            "in ms, and the bytes the handler logged. "
            "Written by the bench; read by `make capacity`."
        ),
        "durations": dict(sorted(kept.items())),
    }
    path.write_text(json.dumps(document, indent=1) + "\n")


def _child(spec_path: str, result_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    # Powertools writes logs and metrics (EMF) to stdout, as in Lambda: to a file, to count the bytes.
    log = open(spec["log"], "ab")  # noqa: SIM115 - kept open for the process's life
    os.dup2(log.fileno(), 1)
    bench = Bench(spec)
    result = bench.warm()
    if spec.get("durations"):
        result["durations"] = bench.durations()
    import resource

    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(result_path).write_text(json.dumps(result))


# -- from the bench's process ------------------------------------------------------------------


def measure(
    trees: list[tuple[str, Path]],
    rounds: int,
    *,
    invocations: int = 200,
    batches: int = 3,
    durations: int = 40,
    only: tuple[str, ...] = (),
) -> tuple[str, dict[str, Any]]:
    """The warm table, and the figures the cost section uses (of the first tree)."""
    functions = [
        name for name in dict.fromkeys(scenario.function for scenario in SCENARIOS) if not only or name in only
    ]
    timings: dict[tuple[str, str], list[float]] = {}
    logged: dict[str, list[float]] = {}
    measured_durations: dict[str, Any] = {}
    rss: dict[str, float] = {}
    with MotoServer() as moto:
        aws = Aws(moto.url).create()
        for round_number in range(rounds):
            for function in functions:
                for label, code in random.sample(trees, len(trees)):
                    wants_durations = durations if (round_number == 0 and label == trees[0][0]) else 0
                    spec = {"invocations": invocations, "batches": batches, "durations": wants_durations}
                    result = run_module("tests.bench.warm", code, function, moto.url, aws.topic_arn, spec)
                    for name, values in result["timings"].items():
                        timings.setdefault((name, label), []).extend(values)
                    if label == trees[0][0]:
                        for name, values in result["logged_bytes"].items():
                            logged.setdefault(name, []).extend(values)
                    measured_durations.update(result.get("durations", {}))
                    rss[function] = max(rss.get(function, 0), result["max_rss_mb"])

    labels = [label for label, _ in trees]
    header = ["scenario", "function", "route", *[f"µs/invocation ({label})" for label in labels]]
    if len(labels) > 1:
        header.append(f"{labels[0]} / {labels[1]}")
    rows = []
    for scenario in (scenario for scenario in SCENARIOS if scenario.function in functions):
        values = [median(timings.get((scenario.name, label), [])) for label in labels]
        row = [
            scenario.name,
            scenario.function.removesuffix("Function"),
            scenario.route,
            *[us(value) for value in values],
        ]
        if len(labels) > 1:
            row.append(f"{values[0] / values[1]:.2f}×")
        rows.append(row)
    notes = [
        f"Median over {rounds} processes per function × {batches} batches of {invocations} invocations (after one "
        "warm-up batch), in the process's CPU time; AWS answers replayed instantly, so this is Powertools, "
        "validation and our code.",
        "Metrics (EMF) and logs are written as in Lambda (to a file here); tracing off.",
    ]
    figures = {
        "durations": measured_durations,
        "logged_bytes": {name: median(values) for name, values in logged.items()},
        "max_rss_mb": rss,
    }
    return table("Warm overhead per invocation, AWS stubbed out", header, rows, notes), figures


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
