"""An analysed profile as use against each limit (`usages`), the load at which each saturates
(`saturation`), and what it costs (`costs`).

A resource saturates at the load (orders a second, the whole profile scaled with it, sellers too) at
which its use reaches its limit; found by bisection, so that what is not proportional to load (a batch
fills, partitions split) is followed as the model has it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infra.capacity.data import Profile
from infra.capacity.model import ESCALATION, Analysis, Inputs, analyse, spread


@dataclass(frozen=True)
class Usage:
    key: str  # stable across loads, for the saturation search
    resource: str
    used: float
    limit: float
    unit: str
    moves: str = ""  # the design change that moves this ceiling
    ceiling: bool = True  # False: it follows the load (partitions split as traffic grows); shown, never first

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 0.0


def _api(analysis: Analysis) -> list[Usage]:
    stack, aws = analysis.inputs.stack, analysis.inputs.aws
    requests = analysis.load.requests()
    found = []
    throttle = stack.stage_throttle()
    if throttle is not None:
        # A stage's throttle applies to each method on its own (AWS: "per-API, per-stage throttling limits
        # are applied at the API method level"): the busiest method meets it first.
        routes = analysis.load.by_route()
        routes["OPTIONS (CORS preflights, taken as one method)"] = analysis.load.preflights
        route, busiest = max(routes.items(), key=lambda item: (item[1], item[0]))
        found.append(
            Usage(
                "api-stage",
                f"API Gateway stage throttle, a method's ({throttle.where}: {throttle.rate:,.0f}/s, burst "
                f"{throttle.burst:,.0f} each), the busiest: {route}",
                busiest,
                throttle.rate,
                "requests/s",
                "raise the stage's ThrottlingRateLimit (a bucket per method), or give the busiest method a "
                "MethodSettings entry of its own; past the account's quota, ask for more through Service "
                "Quotas. A limit per seller (a WAF rate-based rule keyed on the Authorization header: README, "
                "'The stage throttle') keeps one seller from spending a method's bucket",
            )
        )
    found.append(
        Usage(
            "api-account",
            f"API Gateway account throttle ({analysis.inputs.aws.region})",
            requests,
            aws.limit("api_account_rate"),
            "requests/s",
            "ask AWS to raise the account's API Gateway throttle (a soft quota, per Region)",
        )
    )
    return found


def _lambda(analysis: Analysis) -> Usage:
    return Usage(
        "lambda",
        f"Lambda concurrency (account, {analysis.inputs.aws.region})",
        sum(function.concurrency for function in analysis.functions),
        analysis.inputs.aws.limit("lambda_concurrency"),
        "concurrent",
        "ask AWS to raise the concurrency quota (soft); the durations are moto's, upper bounds",
    )


def _index_moves(index: str, value: str, profile: Profile) -> str:
    share, whose = spread(value, profile)
    if whose == "every seller's":
        return (
            f"{index}'s key {value} is every seller's: key it per seller (issue 23's by-seller-status), or shard "
            f"it ({value}#<n>, read shard by shard)"
        )
    return f"{whose} partition of {index}: shard the key for the largest sellers ({value}#<n>), read shard by shard"


def _indexes(analysis: Analysis) -> list[Usage]:
    aws, found = analysis.inputs.aws, []
    for index in analysis.inputs.spec.indexes:
        for reads, limit, unit in ((False, "partition_write_units", "WRU/s"), (True, "partition_read_units", "RRU/s")):
            value, used = analysis.hottest(index.name, reads)
            if not value:
                continue
            whose = spread(value, analysis.profile)[1]
            kind = "reads" if reads else "writes"
            found.append(
                Usage(
                    f"index-{kind}-{index.name}",
                    f"index {index.name}, partition {value} ({whose}), {kind}",
                    used,
                    aws.limit(limit),
                    unit,
                    _index_moves(index.name, value, analysis.profile),
                )
            )
    return found


def _table(analysis: Analysis) -> list[Usage]:
    aws, partitions = analysis.inputs.aws, analysis.partitions
    quota = "ask AWS to raise the table's on-demand throughput quota (soft)"
    shard = analysis.inputs.stack.stream_mapping()
    return [
        Usage(
            "table-writes",
            "orders table, writes (table quota)",
            analysis.table_write_units,
            aws.limit("table_write_units"),
            "WRU/s",
            quota,
        ),
        Usage(
            "table-reads",
            "orders table, reads (table quota)",
            analysis.table_read_units,
            aws.limit("table_read_units"),
            "RRU/s",
            quota,
        ),
        Usage(
            "table-partition",
            f"orders table, a partition of {partitions} (order_id: spread, never hot)",
            analysis.table_write_units / partitions,
            aws.limit("partition_write_units"),
            "WRU/s",
            ceiling=False,
        ),
        Usage(
            "stream-records",
            f"orders table stream, a shard of {partitions} (records)",
            analysis.stream_records / partitions,
            aws.limit("shard_records"),
            "records/s",
            ceiling=False,
        ),
        Usage(
            "stream-bytes",
            f"orders table stream, a shard of {partitions} (bytes written)",
            analysis.stream_bytes / partitions / 1024,
            aws.limit("shard_bytes") / 1024,
            "KB/s",
            ceiling=False,
        ),
        Usage(
            "notifier",
            f"{shard.function}, a shard's batches, {shard.parallelization} at a time (ParallelizationFactor, "
            f"BatchSize {shard.batch_size})",
            analysis.notifier_busy,
            1.0,
            "busy",
            "ParallelizationFactor (up to 10 batches a shard at once), or PublishBatch (one call for a batch)",
        ),
    ]


def _sweep(analysis: Analysis) -> list[Usage]:
    """The escalation sweep escalates one request after another, and stops with min(3 s, a quarter of its
    Timeout) left (orders/handlers/escalate_overdue.py): past that, each sweep leaves more for the next."""
    stack = analysis.inputs.stack
    if ESCALATION not in stack.document["Resources"]:
        return []
    timeout = float(stack.function_setting(ESCALATION, "Timeout") or 3)
    every = stack.schedule_seconds(ESCALATION)
    return [
        Usage(
            "sweep",
            f"{ESCALATION}, a sweep's escalations every {every / 60:g} min, one by one (Timeout {timeout:g} s)",
            analysis.sweep_seconds,
            timeout - min(3.0, timeout / 4),
            "s",
            "escalate a page's requests in parallel, sweep more often, or give the sweep a longer Timeout",
        )
    ]


def _messaging(analysis: Analysis) -> list[Usage]:
    aws, profile = analysis.inputs.aws, analysis.profile
    share = profile.largest_seller_share
    feed = "the largest seller's partition of the notifications table"
    return [
        Usage(
            "sns",
            f"SNS Publish ({aws.region} quota)",
            analysis.publishes,
            aws.limit("sns_publish_rate"),
            "messages/s",
            "ask AWS to raise the Publish quota (soft, per account and Region); PublishBatch "
            "cuts calls and cost, not messages a second, which the quota counts",
        ),
        Usage(
            "sqs-in-flight",
            "SQS DeliveryQueue in flight, the largest seller's webhooks down (a retry waits delayed, "
            "a try held 10 s, a hop 1 s, at most)",
            analysis.in_flight,
            aws.limit("sqs_in_flight"),
            "messages",
            "fewer tries held at once (a failing seller's retries out of the shared queue, into a per-seller "
            "retry store read on a schedule), or a delivery queue per group of sellers",
        ),
        Usage(
            "feed-writes",
            f"{feed}, writes",
            analysis.feed_write_units * share,
            aws.limit("partition_write_units"),
            "WRU/s",
            "shard the seller's feed key",
        ),
        Usage(
            "feed-reads",
            f"{feed}, reads (feed polls every {profile.feed_poll_seconds:g} s, channel queries)",
            analysis.feed_read_units * share,
            aws.limit("partition_read_units"),
            "RRU/s",
            "poll the feed less often, or push to the portal instead of polling",
        ),
    ]


def usages(analysis: Analysis) -> list[Usage]:
    return [
        *_api(analysis),
        _lambda(analysis),
        *_indexes(analysis),
        *_table(analysis),
        *_sweep(analysis),
        *_messaging(analysis),
    ]


def first_to_saturate(found: list[Usage]) -> Usage:
    return max((usage for usage in found if usage.ceiling), key=lambda usage: usage.share)


def share_at(inputs: Inputs, profile: Profile, key: str) -> Callable[[float], float]:
    """The share of its limit the resource `key` uses, at the profile scaled by a factor."""

    def share(factor: float) -> float:
        for usage in usages(analyse(inputs, profile.scaled(factor))):
            if usage.key == key:
                return usage.share
        return 0.0

    return share


def saturation(inputs: Inputs, profile: Profile, key: str, steps: int = 40) -> float | None:
    """Orders a second at which the resource `key` reaches its limit (None: not below 10,000 times now)."""
    share = share_at(inputs, profile, key)
    low, high = 1e-4, 1e4
    if share(high) < 1:
        return None
    for _ in range(steps):  # on a log scale: the answer to about 0.1 %
        middle = (low * high) ** 0.5
        low, high = (middle, high) if share(middle) < 1 else (low, middle)
    return profile.orders_per_second * high


# -- cost -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    item: str
    per_second: float  # dollars a second at the profile's load

    def per_million(self, orders_per_second: float) -> float:
        return self.per_second / orders_per_second * 1e6


def costs(analysis: Analysis) -> list[Cost]:
    aws = analysis.inputs.aws
    price = aws.price
    requests = analysis.load.requests()
    found = [Cost("API Gateway REST requests (preflights included)", requests * price("api_rest_request"))]
    for function in analysis.functions:
        gb_seconds = function.invocations * function.billed_ms / 1000 * function.memory_mb / 1024
        found.append(
            Cost(
                f"Lambda {function.function}",
                function.invocations * price("lambda_request") + gb_seconds * price("lambda_gb_second"),
            )
        )
    found.append(Cost("DynamoDB orders table writes", analysis.table_write_units * price("dynamodb_write_unit")))
    for index in analysis.inputs.spec.indexes:
        units = sum(analysis.index_writes.get(index.name, {}).values())
        found.append(Cost(f"DynamoDB index {index.name} writes", units * price("dynamodb_write_unit")))
    index_reads = sum(sum(values.values()) for values in analysis.index_reads.values())
    found.append(
        Cost(
            "DynamoDB orders reads (GetItem, index pages)",
            (analysis.table_read_units + index_reads) * price("dynamodb_read_unit"),
        )
    )
    found.append(
        Cost(
            "DynamoDB notifications table (feed, channels)",
            analysis.feed_write_units * price("dynamodb_write_unit")
            + analysis.feed_read_units * price("dynamodb_read_unit"),
        )
    )
    found.append(Cost("DynamoDB Streams reads (by Lambda: free)", analysis.stream_records * price("stream_read_unit")))
    found.append(Cost("SNS publishes (deliveries to SQS free)", analysis.publishes * price("sns_publish")))
    messages = sum(analysis.queue_messages.values())
    found.append(Cost("SQS (a receive and a delete a message)", 2 * messages * price("sqs_request")))
    log_bytes = sum(function.invocations * function.log_bytes for function in analysis.functions)
    found.append(Cost("CloudWatch Logs ingestion", log_bytes / 1e9 * price("logs_ingested_gb")))
    return found
