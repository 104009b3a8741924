"""Cost per million cancellations on AWS, from the bench's own measurements and public on-demand prices.

Measured here: each function's duration (wall and CPU time of a warm invocation on moto), the
bytes it logs, the DynamoDB requests per command and the size of the item each writes. Assumed:
the prices below, and Lambda's resource model (CPU in proportion to memory, one full vCPU at
1,769 MB), so that CPU time measured on this machine's full core stretches by 1769/MB below it
while the wait on DynamoDB does not. This machine's core and a Graviton2 core are taken as equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from infra.template import template
from tests.bench.report import dollars, table

REGION = "us-east-1"
# Public on-demand prices, us-east-1, as listed on the AWS pricing pages on 2026-11-26
# (aws.amazon.com/lambda/pricing, /api-gateway/pricing, /dynamodb/pricing/on-demand, /sns/pricing,
# /sqs/pricing, /cloudwatch/pricing, /xray/pricing). First tiers, no free tier.
LAMBDA_ARM_GB_SECOND = 0.0000133334  # arm64, first 7.5 billion GB-s a month
LAMBDA_REQUEST = 0.20 / 1e6
API_GATEWAY_REST_REQUEST = 3.50 / 1e6  # REST API, first 333 million a month
DYNAMODB_WRITE_UNIT = 0.625 / 1e6  # on-demand write request unit (since the 2024-11-01 price cut)
DYNAMODB_READ_UNIT = 0.125 / 1e6  # on-demand read request unit
SNS_PUBLISH = 0.50 / 1e6  # standard topic, per 64 KB chunk; deliveries to SQS are free
SQS_REQUEST = 0.40 / 1e6  # standard queue
LOGS_INGESTED_GB = 0.50  # CloudWatch Logs, standard class
XRAY_TRACE_RECORDED = 5.00 / 1e6
# DynamoDB Streams reads made by a Lambda event source mapping are free.

FULL_VCPU_MB = 1769
# START, END and REPORT lines Lambda writes per invocation (a typical REPORT line is ~200 bytes).
PLATFORM_LOG_BYTES = 320
MEMORY_CANDIDATES = (128, 256, 512, 1024, 1769)
# Memory buys CPU, so latency, warm and cold, and up to one vCPU the CPU-bound work costs the same
# GB-seconds at any size: only the time spent waiting on AWS costs more. The rule: the largest size
# at which a cancellation costs at most this much more than at the cheapest size. Lambda is about a
# tenth of what a cancellation costs, so this lets memory add as much again, for full-speed CPU.
MEMORY_BUDGET = 0.10


def item_size(value: Any) -> int:
    """Bytes DynamoDB bills for an item (developer guide, "Item sizes and formats")."""
    return sum(len(name.encode()) + _value_size(inner) for name, inner in value.items())


def _value_size(value: Any) -> int:
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, (int, float, Decimal)):
        digits = str(Decimal(str(value)).normalize()).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, dict):
        return 3 + sum(1 + len(name.encode()) + _value_size(inner) for name, inner in value.items())
    if isinstance(value, list):
        return 3 + sum(1 + _value_size(inner) for inner in value)
    raise TypeError(type(value))


def _image(item: dict[str, Any]) -> Any:
    from infra.capacity.data import Image

    strings = {name: value for name, value in item.items() if isinstance(value, str)}
    return Image({name: len(name.encode()) + _value_size(value) for name, value in item.items()}, strings)


def write_units(command: str, before: dict[str, Any], after: dict[str, Any]) -> tuple[int, str]:
    """WRUs of `command`'s UpdateItem taking the order from `before` to `after`: the table's (the larger
    image), and each index's by its keys and projection in template.yaml (infra/capacity/writes.py,
    which `make capacity` uses too: a changed key is a delete and a put, a changed projected attribute
    an update, anything else nothing). Returns the units and where they go."""
    from infra.capacity.data import command_table
    from infra.capacity.stack import Stack
    from infra.capacity.writes import step_writes

    spec = Stack.read().table()
    step = step_writes(spec, command_table().commands[command], _image(before), _image(after))
    places = [f"table {step.table_units}"] + [
        f"{index.name} {step.index_units(index.name)}" for index in spec.indexes if step.index_units(index.name)
    ]
    units = step.table_units + sum(write.units for write in step.indexes)
    return units, ", ".join(places)


@dataclass(frozen=True)
class Duration:
    cpu_ms: float
    wait_ms: float

    def at(self, memory_mb: int) -> float:
        """Billed milliseconds at `memory_mb`: CPU stretched by the vCPU share, rounded up to 1 ms."""
        return math.ceil(self.cpu_ms * max(1.0, FULL_VCPU_MB / memory_mb) + self.wait_ms)


def _duration(measured: dict[str, Any]) -> Duration:
    from tests.bench.report import median

    wall, cpu = median(measured["wall_ms"]), median(measured["cpu_ms"])
    return Duration(cpu, max(0.0, wall - cpu))


def _memory(function: str) -> int:
    properties = template()["Resources"][function]["Properties"]
    return int(properties.get("MemorySize", template()["Globals"]["Function"]["MemorySize"]))


def _lambda(duration: Duration, memory_mb: int) -> float:
    return LAMBDA_REQUEST + LAMBDA_ARM_GB_SECOND * memory_mb / 1024 * duration.at(memory_mb) / 1000


def lines(figures: dict[str, Any], memory: dict[str, int] | None = None) -> dict[str, list[tuple[str, str, float]]]:
    """Per path, (item, quantity, dollars per cancellation)."""
    measured = figures["warm"]["durations"]
    memory = memory or {}
    durations = {name: _duration(values) for name, values in measured.items()}
    functions = {
        "cancel": "CancelOrderFunction",
        "request": "RequestCancellationFunction",
        "approve": "WarehouseDecisionFunction",
        "notify": "NotifierFunction",
    }

    def size(name: str) -> dict[str, Any]:
        return {"before": measured[name]["item_before"], "after": measured[name]["item_after"]}

    def logged(name: str) -> float:
        from tests.bench.report import median

        return median(measured[name]["logged_bytes"]) + PLATFORM_LOG_BYTES

    def command(name: str) -> list[tuple[str, str, float]]:
        function = functions[name]
        mb = memory.get(function, _memory(function))
        units, places = write_units(name, size(name)["before"], size(name)["after"])
        notify_mb = memory.get("NotifierFunction", _memory("NotifierFunction"))
        log_bytes = logged(name) + logged("notify")
        return [
            ("API Gateway REST", "1 request", API_GATEWAY_REST_REQUEST),
            (
                f"Lambda {function} ({mb} MB)",
                f"1 × {durations[name].at(mb):.0f} ms billed",
                _lambda(durations[name], mb),
            ),
            ("DynamoDB UpdateItem", f"{units} WRU ({places})", units * DYNAMODB_WRITE_UNIT),
            ("DynamoDB Streams → Lambda", "free", 0.0),
            (
                f"Lambda NotifierFunction ({notify_mb} MB)",
                f"≤ 1 × {durations['notify'].at(notify_mb):.0f} ms (batch of 1; ≤ 10 a batch under load)",
                _lambda(durations["notify"], notify_mb),
            ),
            ("SNS publish", "1 (deliveries to SQS free)", SNS_PUBLISH),
            ("CloudWatch Logs", f"{log_bytes:.0f} bytes", log_bytes / 1e9 * LOGS_INGESTED_GB),
        ]

    request_path = command("request") + command("approve")
    # The warehouse reads and deletes the CANCELLATION_REQUESTED message from its queue.
    request_path.append(("SQS (warehouse queue)", "receive + delete", 2 * SQS_REQUEST))
    return {"cancel": command("cancel"), "request + approve": request_path}


def measure(figures: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    paths = lines(figures)
    rows = []
    totals = {}
    for path, items in paths.items():
        total = sum(cost for *_, cost in items)
        totals[path] = total * 1e6
        for item, quantity, cost in items:
            rows.append([path, item, quantity, dollars(cost * 1e6)])
        rows.append([path, "**total**", "", f"**{dollars(total * 1e6)}**"])

    memory_rows = []
    cold = figures.get("cold", {})
    measured = figures["warm"]["durations"]
    cancel = _duration(measured["cancel"])
    totals_by_size = {}
    # Lambda reports the runtime's memory with ours: keep half the size free for it and for growth.
    # The cold starts' processes are the functions alone; the warm section's also hold the bench.
    resident = max(
        (function["max_rss_mb"] for function in cold.values()),
        default=max(figures["warm"].get("max_rss_mb", {}).values(), default=0),
    )
    for mb in MEMORY_CANDIDATES:
        alternative = lines(
            figures,
            {
                name: mb
                for name in (
                    "CancelOrderFunction",
                    "RequestCancellationFunction",
                    "WarehouseDecisionFunction",
                    "NotifierFunction",
                )
            },
        )
        cancel_total = sum(cost for *_, cost in alternative["cancel"]) * 1e6
        lambda_only = sum(cost for item, _, cost in alternative["cancel"] if item.startswith("Lambda")) * 1e6
        cold_ms = cold.get("CancelOrderFunction", {}).get("current")
        cold_at = f"{cold_ms * max(1.0, FULL_VCPU_MB / mb):.0f} ms" if cold_ms else "n/a"
        init_cost = (
            cold_ms * max(1.0, FULL_VCPU_MB / mb) / 1000 * mb / 1024 * LAMBDA_ARM_GB_SECOND * 1e6 if cold_ms else None
        )
        fits = mb >= 2 * resident
        memory_rows.append(
            [
                f"{mb} MB",
                "yes" if fits else "no",
                f"{cancel.at(mb):.0f} ms",
                cold_at,
                dollars(lambda_only),
                dollars(cancel_total),
                dollars(init_cost) if init_cost else "n/a",
            ]
        )
        if fits:
            totals_by_size[mb] = cancel_total
    cheapest = min(totals_by_size.values())
    chosen = max(mb for mb, total in totals_by_size.items() if total <= cheapest * (1 + MEMORY_BUDGET))

    notes = [
        f"Region {REGION}, on-demand list prices of 2026-11-26 (constants in tests/bench/cost.py), no free tier.",
        f"Lambda duration: CPU {cancel.cpu_ms:.2f} ms + wait {cancel.wait_ms:.2f} ms for a warm cancel "
        f"measured here (moto "
        f"on loopback standing in for DynamoDB), CPU stretched by {FULL_VCPU_MB}/MB below {FULL_VCPU_MB} MB.",
        f"Logs: bytes the handlers wrote (metrics EMF and log lines) plus ~{PLATFORM_LOG_BYTES} bytes of "
        f"Lambda's START/END/REPORT lines.",
        "Not included: X-Ray (TracingEnabled=true records traces at $5.00 a million; the default "
        "sampling rule keeps the first "
        "request each second and 5% of the rest), cold starts (init is billed as duration since "
        "2025-08-01; see the last "
        "column below), storage, data transfer.",
    ]
    text = table(
        "Cost per million cancellations on AWS", ["path", "item", "per cancellation", "per million"], rows, notes
    )
    text += "\n" + table(
        "Memory size: what a cancel costs and takes at each size (the template's choice is below)",
        [
            "memory",
            f"≥ 2 × RSS ({resident:.0f} MB)",
            "warm cancel billed",
            "cold init (model)",
            "Lambda $/M cancels",
            "total $/M cancels",
            "$ per M cold starts",
        ],
        memory_rows,
        [
            "Cold init (model): the cold init measured here at full speed, stretched by the vCPU share; "
            "Lambda may give init "
            "more CPU than that, so read it as an upper bound.",
            f"The rule (tests/bench/cost.py): the largest size at which a cancellation costs at most "
            f"{MEMORY_BUDGET:.0%} more than at the cheapest, here {chosen} MB. Template now: "
            + ", ".join(f"{name} {_memory(name)} MB" for name in ("CancelOrderFunction", "NotifierFunction"))
            + ".",
        ],
    )
    return text, {"totals": totals, "memory_chosen": chosen}
