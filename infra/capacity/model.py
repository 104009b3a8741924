"""One profile through the model: the write and read units of the orders table, each index and its
hottest partition, the stream and the notifier, SNS, the queues, the notifications table, Lambda and
API Gateway; then each as use against its limit (`usages`) and as money (`costs`).

Where a partition key's value holds the seller's id, the largest seller's share of the traffic lands
on one partition; where it holds nobody's (a status, a constant), every seller's traffic does; where
it holds the order's id, one order's, which is never hot.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from infra.capacity.data import Aws, CommandTable, DataError, Duration, Measured, MeasuredDuration, Profile
from infra.capacity.load import Load, load
from infra.capacity.stack import Index, Stack, TableSpec
from infra.capacity.writes import StepWrites, entry_size, holds, partition_of, path_writes, write_units

READ_UNIT_BYTES = 4096
NOTIFIER, DELIVERY, ESCALATION = "NotifierFunction", "DeliveryFunction", "EscalationFunction"
PLAIN_RECORDS = f"{NOTIFIER}, plain records"


class Inputs:
    """Everything but the profile: the template, the command table, the measured items and durations,
    AWS's figures, and the event types the notifier tells. Each path's writes are worked out once."""

    def __init__(
        self,
        stack: Stack,
        table: CommandTable,
        measured: Measured,
        aws: Aws,
        durations: Mapping[str, MeasuredDuration],
        notified: frozenset[str],
    ):
        self.stack, self.table, self.measured, self.aws = stack, table, measured, aws
        self.durations, self.notified = durations, notified
        self.spec: TableSpec = stack.table()
        self.overhead = int(aws.assumed["index_entry_overhead_bytes"].value)
        for path, steps in table.paths.items():
            found = tuple(step.command for step in measured.paths.get(path, ()))
            if found != steps:
                raise DataError(
                    f"measured.json's path {path} is {found or 'missing'}, commands.toml's {steps}: "
                    "run `.venv/bin/python -m tests.bench.writes`"
                )
        self.paths = {path: path_writes(self.spec, table, measured, path, self.overhead) for path in table.paths}

    def step(self, path: str, number: int) -> StepWrites:
        return self.paths[path][number]

    def read_index(self, candidates: tuple[str, ...]) -> Index:
        for name in candidates:
            for index in self.spec.indexes:
                if index.name == name:
                    return index
        raise DataError(f"the template has none of the indexes {', '.join(candidates)} (commands.toml's reads)")


def spread(value: str, profile: Profile) -> tuple[float, str]:
    """The share of a partition key's traffic that one partition takes, and whose traffic it is."""
    if "{order}" in value:
        return 0.0, "one order's"
    if "{seller}" in value:
        return profile.largest_seller_share, "the largest seller's"
    return 1.0, "every seller's"


@dataclass(frozen=True)
class FunctionUse:
    function: str
    invocations: float  # a second
    billed_ms: float  # an invocation, on average
    memory_mb: int
    log_bytes: float  # an invocation, the platform's lines included
    concurrency: float
    source: str


@dataclass
class Analysis:
    inputs: Inputs
    profile: Profile
    load: Load
    table_write_units: float = 0.0  # a second, refused tries included
    table_read_units: float = 0.0
    index_writes: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    index_reads: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    stream_records: float = 0.0
    stream_bytes: float = 0.0
    partitions: int = 0
    notifier_busy: float = 0.0  # a shard's share of the time its one invocation runs
    functions: list[FunctionUse] = field(default_factory=list)
    publishes: float = 0.0
    queue_messages: dict[str, float] = field(default_factory=dict)
    in_flight: float = 0.0  # delivery messages waiting out retries if the largest seller's webhooks fail
    sweep_seconds: float = 0.0  # an escalation sweep's work, one escalation after another
    feed_write_units: float = 0.0
    feed_read_units: float = 0.0
    webhooks: float = 0.0

    @property
    def orders(self) -> float:
        return self.profile.orders_per_second

    def hottest(self, index: str, reads: bool = False) -> tuple[str, float]:
        """The index's hottest partition key value, and its units a second."""
        units = (self.index_reads if reads else self.index_writes).get(index, {})
        found = [(value, rate * spread(value, self.profile)[0]) for value, rate in units.items()]
        return max(found, key=lambda pair: pair[1], default=("", 0.0))


# -- DynamoDB -------------------------------------------------------------------------------------


def _writes(analysis: Analysis) -> None:
    for occurrence in analysis.load.steps:
        step = analysis.inputs.step(occurrence.path, occurrence.step)
        analysis.table_write_units += occurrence.rate * step.table_units
        analysis.stream_records += occurrence.rate
        analysis.stream_bytes += occurrence.rate * step.item_bytes
        for write in step.indexes:
            analysis.index_writes[write.index][write.partition] += occurrence.rate * write.units


def query_units(items: float, item_bytes: int, consistent: bool = False) -> float:
    """Read units of a Query (or GetItem) returning `items` items of `item_bytes`: a unit a 4 KB begun,
    half of it when eventually consistent."""
    units = max(1, math.ceil(items * item_bytes / READ_UNIT_BYTES))
    return units if consistent else units / 2


def _reads(analysis: Analysis) -> None:
    inputs, profile = analysis.inputs, analysis.profile
    for name, rate in analysis.load.reads.items():
        read = inputs.table.reads[name]
        image = inputs.measured.image(read.item)
        if not read.index:
            analysis.table_read_units += rate * query_units(1, image.size(), consistent=True)
            continue
        index = inputs.read_index(read.index)
        if not holds(index, image):
            raise DataError(f"the item {read.item} has no {', '.join(index.keys)}: {index.name} would not hold it")
        items = float(getattr(profile, read.page or "list_page_size")) + 1
        units = query_units(items, entry_size(index, image, inputs.spec.keys, inputs.overhead))
        analysis.index_reads[index.name][partition_of(index, image)] += rate * units


def _partitions(analysis: Analysis) -> None:
    """The table's partitions (and so the stream's shards): as many as its throughput needs, 4 at least."""
    aws = analysis.inputs.aws
    analysis.partitions = max(
        int(aws.limit("initial_partitions")),
        math.ceil(analysis.table_write_units / aws.limit("partition_write_units")),
        math.ceil(analysis.table_read_units / aws.limit("partition_read_units")),
    )


def _feed(analysis: Analysis) -> None:
    """The notifications table: per event, the feed's put, its `delivered` update, the channels' Query;
    and the portal's feed pages."""
    measured, profile = analysis.inputs.measured, analysis.profile
    feed = measured.feed_item
    put = write_units(feed.size() - feed.sizes.get("delivered", 0))
    delivered = write_units(feed.size()) * min(1.0, profile.channels_per_seller)
    channel_bytes = sum(item.size() for item in measured.channel_items) / max(1, len(measured.channel_items))
    channels = query_units(profile.channels_per_seller, round(channel_bytes), consistent=True)
    events = sum(analysis.load.events.values())
    analysis.feed_write_units = events * (put + delivered)
    page = query_units(profile.feed_page_size + 1, feed.size())
    analysis.feed_read_units = events * channels + analysis.load.feed_pages * page
    analysis.webhooks = events * profile.channels_per_seller


# -- Lambda ----------------------------------------------------------------------------------------


def _exact_ms(inputs: Inputs, duration: Duration, memory_mb: int, writes: float = 1) -> float:
    """An invocation's milliseconds at `memory_mb`, as tests/bench/cost.py models a measured one: its CPU
    time stretched below one vCPU, its wait on AWS as measured, once per request made."""
    measured = inputs.durations.get(duration.measured)
    if measured is None:
        raise DataError(f"docs/lambda-durations.json has no duration {duration.measured}: run `make bench`")
    stretch = max(1.0, inputs.aws.assumed["full_vcpu_mb"].value / memory_mb)
    return measured.cpu_ms * stretch + measured.wait_ms * duration.requests * writes + duration.plus_ms


def billed_ms(inputs: Inputs, duration: Duration, memory_mb: int, writes: float = 1) -> float:
    """An invocation's billed milliseconds: Lambda bills to the millisecond begun."""
    return math.ceil(_exact_ms(inputs, duration, memory_mb, writes))


def _source(inputs: Inputs, duration: Duration) -> str:
    measured = inputs.durations[duration.measured]
    where = f"bench '{duration.measured}' ({measured.samples} on moto, {measured.measured_at}, {measured.commit})"
    return f"{where}; {duration.note}" if duration.note else where


def _log_bytes(inputs: Inputs, duration: Duration) -> float:
    return inputs.durations[duration.measured].logged_bytes + inputs.aws.assumed["platform_log_bytes"].value


def _api_functions(analysis: Analysis) -> list[FunctionUse]:
    inputs = analysis.inputs
    routes = inputs.stack.functions_by_route()
    grouped: dict[str, list[tuple[float, float, Duration]]] = defaultdict(list)
    for call in analysis.load.calls:
        if call.route not in routes:
            raise DataError(f"the template routes no {call.route} (commands.toml names it)")
        function = routes[call.route]
        duration = inputs.table.durations[call.route]
        ms = billed_ms(inputs, duration, inputs.stack.memory(function), call.writes)
        grouped[function].append((call.rate, ms, duration))
    found = []
    for function, calls in sorted(grouped.items()):
        rate = sum(call_rate for call_rate, _, _ in calls)
        busy = sum(call_rate * ms for call_rate, ms, _ in calls)
        logs = sum(call_rate * _log_bytes(inputs, duration) for call_rate, _, duration in calls)
        sources = sorted({f"{duration.key}: {_source(inputs, duration)}" for _, _, duration in calls})
        found.append(
            FunctionUse(
                function,
                rate,
                busy / rate if rate else 0.0,
                inputs.stack.memory(function),
                logs / rate if rate else 0.0,
                busy / 1000,
                " | ".join(sources),
            )
        )
    return found


def _notifier(analysis: Analysis) -> FunctionUse:
    """The stream's function: per shard one batch at a time (ParallelizationFactor), a batch holding what
    a quarter second brought (at most BatchSize); a notifiable record costs a Publish, the others CPU."""
    inputs, aws = analysis.inputs, analysis.inputs.aws
    mapping = inputs.stack.stream_mapping()
    duration, plain_duration = inputs.table.durations[NOTIFIER], inputs.table.durations[PLAIN_RECORDS]
    memory = inputs.stack.memory(mapping.function)
    notify = billed_ms(inputs, duration, memory)
    measured = inputs.durations[duration.measured]
    # A record that tells nobody: its share of a measured batch of them (CPU only, nothing published).
    plain_batch = inputs.durations[plain_duration.measured]
    plain = _exact_ms(inputs, plain_duration, memory) / plain_batch.records
    records = analysis.stream_records
    notifiable = sum(analysis.load.events.values()) / records if records else 0.0
    per_record = notifiable * notify + (1 - notifiable) * plain
    per_shard = records / analysis.partitions
    batch = min(mapping.batch_size, max(1.0, per_shard / aws.limit("stream_polls_per_second")))
    analysis.notifier_busy = per_shard * per_record / 1000 / mapping.parallelization
    cap = analysis.partitions * mapping.parallelization
    logs = batch * notifiable * measured.logged_bytes + aws.assumed["platform_log_bytes"].value
    return FunctionUse(
        mapping.function,
        records / batch,
        math.ceil(batch * per_record),
        memory,
        logs,
        min(cap, records * per_record / 1000),
        f"{_source(inputs, duration)} | {_source(inputs, plain_duration)}",
    )


def _queued(analysis: Analysis) -> list[FunctionUse]:
    """The queues' functions (each message its own invocation: the most invocations; batches fill only
    under load), and the scheduled sweep."""
    inputs, found = analysis.inputs, []
    mappings = inputs.stack.queue_mappings()
    for queue, messages in analysis.queue_messages.items():
        if queue not in mappings or mappings[queue].function not in inputs.table.durations:
            continue
        function = mappings[queue].function
        duration = inputs.table.durations[function]
        ms = billed_ms(inputs, duration, inputs.stack.memory(function))
        found.append(
            FunctionUse(
                function,
                messages,
                ms,
                inputs.stack.memory(function),
                _log_bytes(inputs, duration),
                messages * ms / 1000,
                _source(inputs, duration),
            )
        )
    escalations = analysis.load.function_writes.get(ESCALATION, 0.0)
    if escalations:
        duration = inputs.table.durations[ESCALATION]
        every = inputs.stack.schedule_seconds(ESCALATION)
        ms = billed_ms(inputs, duration, inputs.stack.memory(ESCALATION))
        analysis.sweep_seconds = escalations * every * ms / 1000
        found.append(
            FunctionUse(
                ESCALATION,
                1 / every,
                analysis.sweep_seconds * 1000,
                inputs.stack.memory(ESCALATION),
                _log_bytes(inputs, duration),
                escalations * ms / 1000,
                _source(inputs, duration),
            )
        )
    return found


SQS_LONGEST_DELAY = 900  # seconds: SendMessage's DelaySeconds at most
TRY_HOLD_SECONDS = 10.0  # a delivery try in flight at most: the lookup's 5 s and the POST's 5 s
HOP_HOLD_SECONDS = 1.0  # a copy sent on before it is due: one SendMessage, no DynamoDB

# -- SNS and SQS -------------------------------------------------------------------------------------


def _messaging(analysis: Analysis) -> None:
    inputs, events = analysis.inputs, analysis.load.events
    analysis.publishes = sum(events.values())
    analysis.queue_messages = {
        queue: sum(rate for kind, rate in events.items() if types is None or kind in types)
        for queue, types in inputs.stack.subscriptions().items()
    }
    delays = [int(delay) for delay in inputs.stack.parameter("DeliveryRetryDelaysSeconds").split(",")]
    mappings = inputs.stack.queue_mappings()
    delivered = sum(
        messages
        for queue, messages in analysis.queue_messages.items()
        if queue in mappings and mappings[queue].function == DELIVERY
    )
    # A retry waits as a delayed copy (not in flight), sent on every 15 minutes until due: a message is in
    # flight only while an invocation holds it. A try holds it for its batch's slowest message at most: the
    # host's lookup and the POST, 5 s each (docs/api.md §7); a hop (a copy sent on, no try) for a second at
    # most. With the largest seller's webhooks down, each of its events makes every try and every hop.
    if not delivered:
        return  # no delivery function takes the topic's events
    failing = delivered * analysis.profile.largest_seller_share
    hops = sum(max(0, math.ceil(delay / SQS_LONGEST_DELAY) - 1) for delay in delays)
    tries = delivered - failing + failing * (1 + len(delays))
    analysis.in_flight = tries * TRY_HOLD_SECONDS + failing * hops * HOP_HOLD_SECONDS


def analyse(inputs: Inputs, profile: Profile) -> Analysis:
    analysis = Analysis(inputs, profile, load(profile, inputs.table, inputs.notified))
    _writes(analysis)
    _reads(analysis)
    _partitions(analysis)
    _feed(analysis)
    _messaging(analysis)
    analysis.functions = [*_api_functions(analysis), _notifier(analysis), *_queued(analysis)]
    return analysis


def requests_by_route(analysis: Analysis) -> dict[str, float]:
    routes = analysis.load.by_route()
    routes["OPTIONS (CORS preflights)"] = analysis.load.preflights
    return routes
