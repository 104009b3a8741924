"""A profile as rates, per second: how often each step of each measured path runs, each route is
called, each read is made, each event is told.

Orders follow one of five paths (commands.toml's [paths]), in the profile's shares:

    despatched               1 - cancelled_at_once - requested
    cancelled_at_once        cancelled_at_once
    request_approved         requested x approved
    request_rejected         requested x rejected
    request_met_by_despatch  requested x (1 - approved - rejected)

Edits, escalations and tracking events are added to them as commands of their own, each measured on
the first path that takes it (`edited`, `request_escalated`). A despatched order is one not cancelled
(at once, or by an approved request).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from infra.capacity.data import CommandTable, DataError, Profile

FEED_ROUTE = "GET /notifications"
ORDER_PATHS = ("despatched", "cancelled_at_once", "request_approved", "request_rejected", "request_met_by_despatch")
TRACK = "track"


@dataclass(frozen=True)
class Occurrence:
    """A step of a measured path, run `rate` times a second."""

    path: str
    step: int
    command: str
    rate: float


@dataclass(frozen=True)
class Call:
    """Requests a second to a route, each making `writes` writes (a refused one first when 2)."""

    route: str
    rate: float
    writes: int = 1


@dataclass
class Load:
    profile: Profile
    steps: list[Occurrence] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)  # every API request a function serves
    preflights: float = 0.0  # OPTIONS the browsers send first (answered by API Gateway, no function)
    reads: dict[str, float] = field(default_factory=dict)  # commands.toml's reads, per second
    feed_pages: float = 0.0
    events: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # notified events by type
    function_writes: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # routeless commands

    def requests(self) -> float:
        """API Gateway requests a second: the functions' calls and the browsers' preflights."""
        return sum(call.rate for call in self.calls) + self.preflights

    def by_route(self) -> dict[str, float]:
        found: dict[str, float] = defaultdict(float)
        for call in self.calls:
            found[call.route] += call.rate
        return dict(found)


def path_rates(profile: Profile) -> dict[str, float]:
    """Orders a second taking each of ORDER_PATHS."""
    n = profile.orders_per_second
    kept = 1 - profile.cancelled_at_once - profile.requested
    rest = 1 - profile.approved - profile.rejected
    if kept < 0 or rest < 0 or min(profile.cancelled_at_once, profile.requested) < 0:
        raise DataError(f"profile {profile.name}: the shares of orders (or of requests) add up to more than 1")
    return {
        "despatched": n * kept,
        "cancelled_at_once": n * profile.cancelled_at_once,
        "request_approved": n * profile.requested * profile.approved,
        "request_rejected": n * profile.requested * profile.rejected,
        "request_met_by_despatch": n * profile.requested * rest,
    }


def extra_rates(profile: Profile, table: CommandTable) -> dict[str, float]:
    """Commands added to the paths: edits, escalations and (once written) tracking events, a second."""
    n = profile.orders_per_second
    extras = {
        "edit": n * profile.edited * profile.edits_per_edited_order,
        "escalate": n * profile.requested * profile.escalated,
    }
    if profile.tracking_events_per_despatched_order:
        if TRACK not in table.commands:
            raise DataError(
                "the profile has tracking events, but commands.toml lists no `track` command: "
                "write down what a tracking event writes (and a path that measures it) first"
            )
        despatched = 1 - profile.cancelled_at_once - profile.requested * profile.approved
        extras[TRACK] = n * despatched * profile.tracking_events_per_despatched_order
    return extras


def _first_step(table: CommandTable, command: str) -> tuple[str, int]:
    for path, steps in table.paths.items():
        if command in steps:
            return path, steps.index(command)
    raise DataError(f"commands.toml: no path takes {command}, so nothing measures its item")


def occurrences(profile: Profile, table: CommandTable) -> list[Occurrence]:
    """Every step that runs (at a rate above 0) at the profile's load."""
    rates = {path: rate for path, rate in path_rates(profile).items() if rate > 0}
    missing = [path for path in rates if path not in table.paths]
    if missing:
        raise DataError(f"commands.toml lists no path {', '.join(missing)}")
    found = [
        Occurrence(path, number, command, rate)
        for path, rate in rates.items()
        for number, command in enumerate(table.paths[path])
    ]
    for command, rate in extra_rates(profile, table).items():
        if rate > 0:
            path, number = _first_step(table, command)
            found.append(Occurrence(path, number, command, rate))
    return found


def _reads(profile: Profile) -> dict[str, float]:
    n, requests = profile.orders_per_second, profile.orders_per_second * profile.requested
    return {
        "order": n * profile.order_reads_per_order,
        "list_page": n * profile.list_pages_per_order,
        "status_list_page": n * profile.status_list_pages_per_order,
        "queue_page": requests * profile.queue_pages_per_request,
        "warehouse_order": requests * profile.warehouse_reads_per_request,
    }


def _seller_call_on_an_order(route: str) -> bool:
    """A seller's call on an order's own URL: a browser sends it after a preflight of its own."""
    return "{order_id}" in route and not route.split(" ", 1)[1].startswith("/warehouse/")


def load(profile: Profile, table: CommandTable, notified: frozenset[str]) -> Load:
    """The profile's rates; `notified` are the event types the notifier tells (orders.domain's list)."""
    result = Load(profile, steps=occurrences(profile, table))
    for occurrence in result.steps:
        command = table.commands[occurrence.command]
        if command.route:
            result.calls.append(Call(command.route, occurrence.rate, command.writes))
        else:
            result.function_writes[command.function or command.name] += occurrence.rate
        if command.event in notified:
            result.events[command.event] += occurrence.rate
    result.reads = {name: rate for name, rate in _reads(profile).items() if rate > 0}
    for name, rate in result.reads.items():
        result.calls.append(Call(table.reads[name].route, rate))
    result.feed_pages = profile.sellers * profile.portal_tabs_per_seller / profile.feed_poll_seconds
    if result.feed_pages > 0:
        result.calls.append(Call(FEED_ROUTE, result.feed_pages))
    on_orders = sum(call.rate for call in result.calls if _seller_call_on_an_order(call.route))
    result.preflights = profile.portal_share * on_orders
    return result
