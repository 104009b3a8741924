"""What `make capacity` prints: plain-text tables (Markdown, so that they paste into a document)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from infra.capacity.data import ROOT, Profile
from infra.capacity.model import Analysis, Inputs, requests_by_route
from infra.capacity.usage import Usage, costs, first_to_saturate, saturation, usages
from infra.capacity.writes import TABLE, lifecycle

LIFECYCLES = {
    "despatched": "typical",
    "cancelled_at_once": "cancelled at once",
    "request_approved": "requested, approved",
    "request_rejected": "requested, rejected, despatched",
    "request_met_by_despatch": "requested, met by the despatch",
}
EXTRAS = {"edit": "+ each edit (while pending)", "escalate": "+ each escalation"}


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(name), *(len(row[i]) for row in cells)) for i, name in enumerate(header)]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (width + 2) for width in widths) + "|", *map(line, cells)])


def number(value: float) -> str:
    value = round(value, 9)  # a sum of shares that should make a whole number does
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.01 else f"{value:.1g}"


def dollars(value: float) -> str:
    return f"${value:,.2f}" if value >= 1 else f"${value:.4f}"


def _shown(path: Path) -> str:
    """A path inside the repository as the repository names it; any other as given."""
    return str(path.resolve().relative_to(ROOT)) if path.resolve().is_relative_to(ROOT) else str(path)


def header(inputs: Inputs) -> str:
    spec, stack = inputs.spec, inputs.stack
    throttle = stack.stage_throttle()
    lines = [
        f"Template: {_shown(stack.path)}",
        f"  {spec.logical_id} (key {' + '.join(spec.keys)}; stream {spec.stream or 'none'}); indexes: "
        + "; ".join(index.describe() for index in spec.indexes),
        "  stage throttle: "
        + (
            f"{throttle.rate:,.0f} requests/s, burst {throttle.burst:,.0f}, each method ({throttle.where})"
            if throttle
            else "none"
        ),
    ]
    lines += [f"  also throttled, not modelled: {other}" for other in stack.other_throttles()]
    return "\n".join(lines)


def lifecycles(inputs: Inputs) -> str:
    """Write units per order lifecycle, the table's and each index's: the figure of issue 23's before/after."""
    names = [TABLE, *(index.name for index in inputs.spec.indexes)]
    rows = []
    for path, label in LIFECYCLES.items():
        figures = lifecycle(inputs.spec, inputs.table, inputs.measured, path, inputs.overhead)
        steps = " → ".join(inputs.table.paths[path])
        rows.append([f"{label}: {steps}", *(figures[name] for name in names), sum(figures.values())])
    for command, label in EXTRAS.items():
        path = next(path for path, steps in inputs.table.paths.items() if command in steps)
        step = inputs.step(path, inputs.table.paths[path].index(command))
        figures = {TABLE: step.table_units}
        figures.update({index.name: step.index_units(index.name) for index in inputs.spec.indexes})
        rows.append([label, *(figures[name] for name in names), sum(figures.values())])
    return table(["lifecycle (write units)", *names, "all"], rows)


def _saturates(inputs: Inputs, profile: Profile, usage: Usage) -> str:
    if not usage.ceiling:
        return "follows load"
    at = saturation(inputs, profile, usage.key)
    return "not by 10,000×" if at is None else number(at)


def profile_report(inputs: Inputs, analysis: Analysis) -> str:
    profile = analysis.profile
    found = sorted(usages(analysis), key=lambda usage: -usage.share)
    rows = [
        [
            usage.resource,
            f"{number(usage.used)} {usage.unit}",
            f"{number(usage.limit)}",
            f"{usage.share:.0%}",
            _saturates(inputs, profile, usage),
        ]
        for usage in found
    ]
    first = first_to_saturate(found)
    at = saturation(inputs, profile, first.key)
    when = f"at {number(at)} orders a second" if at is not None else "not below 10,000 times this load"
    lines = [
        f"## {profile.name}: {number(profile.orders_per_second)} orders a second, {number(profile.sellers)} sellers, "
        f"the largest {profile.largest_seller_share:.0%}",
        "",
        table(["resource", "use", "limit", "use/limit", "saturates at (orders/s)"], rows),
        "",
        f"First to saturate: {first.resource}, {when} ({first.share:.0%} of its limit here).",
        f"What moves it: {first.moves}.",
        "",
        "API requests a second: "
        + ", ".join(f"{route} {number(rate)}" for route, rate in sorted(requests_by_route(analysis).items())),
        "",
        f"Told a second: {number(analysis.publishes)} events published to SNS ("
        + ", ".join(f"{kind} {number(rate)}" for kind, rate in sorted(analysis.load.events.items()))
        + "); queued: "
        + ", ".join(f"{queue} {number(rate)}" for queue, rate in sorted(analysis.queue_messages.items()))
        + f"; webhook POSTs out {number(analysis.webhooks)} "
        + f"(channels a seller: {number(profile.channels_per_seller)}).",
    ]
    return "\n".join(lines)


def cost_report(analyses: Sequence[Analysis]) -> str:
    items = [cost.item for cost in costs(analyses[0])]
    by_profile = [{cost.item: cost.per_million(a.orders) for cost in costs(a)} for a in analyses]
    rows = [[item, *(dollars(found[item]) for found in by_profile)] for item in items]
    rows.append(["**total**", *(f"**{dollars(sum(found.values()))}**" for found in by_profile)])
    return table(["cost per million orders", *(a.profile.name for a in analyses)], rows)


def functions_report(analysis: Analysis) -> str:
    rows = [
        [
            use.function,
            f"{use.memory_mb} MB",
            number(use.invocations),
            f"{use.billed_ms:.0f} ms",
            number(use.concurrency),
            use.source,
        ]
        for use in analysis.functions
    ]
    return table(["function", "memory", "invocations/s", "billed", "concurrent", "duration from"], rows)


def sources(inputs: Inputs) -> str:
    aws = inputs.aws
    lines = [f"Prices ({aws.region} where known, else us-east-1, as each says; {aws.prices_date}):"]
    lines += [f"- {name} = {figure.value:g}: {figure.source}" for name, figure in aws.prices.items()]
    lines.append("Limits:")
    lines += [f"- {name} = {figure.value:,g}: {figure.source}" for name, figure in aws.limits.items()]
    lines.append("Assumed by the model:")
    lines += [f"- {name} = {figure.value:g}: {figure.source}" for name, figure in aws.assumed.items()]
    return "\n".join(lines)
