"""The data `make capacity` reads, as typed values: the command table (commands.toml), the traffic
profiles (profiles.toml), AWS's limits and prices (aws.toml), the measured items (measured.json, written
by tests/bench/writes.py) and the measured Lambda durations (docs/lambda-durations.json, written by
`make bench`). Nothing here computes; writes.py, load.py and usage.py do.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
COMMANDS = HERE / "commands.toml"
PROFILES = HERE / "profiles.toml"
AWS = HERE / "aws.toml"
MEASURED = HERE / "measured.json"
DURATIONS = ROOT / "docs" / "lambda-durations.json"


class DataError(ValueError):
    """A data file says something the model cannot use; the message says which file and what."""


# -- the command table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One command's write: the attributes it puts, or SETs, REMOVEs and ADDs (top-level names)."""

    name: str
    route: str | None = None  # "POST /orders/{order_id}/cancel"; None for a function's own write
    function: str | None = None  # the function that writes, when no route names it
    status: str | None = None  # a status move's target
    put: frozenset[str] = frozenset()
    set: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()
    add: frozenset[str] = frozenset()
    writes: int = 1  # requests made: the ones before the last are refused by their condition
    event: str | None = None

    @property
    def written(self) -> frozenset[str]:
        """Every attribute the write changes (a SET is taken to change its attribute's value)."""
        return self.put | self.set | self.remove | self.add

    @property
    def is_put(self) -> bool:
        return bool(self.put)

    def listed(self) -> dict[str, list[str]]:
        """The lists as commands.toml gives them, as tests/bench/writes.py reports what the code sends."""
        lists = {"put": self.put, "set": self.set, "remove": self.remove, "add": self.add}
        return {action: sorted(names) for action, names in lists.items() if names}


@dataclass(frozen=True)
class Read:
    """A read: its route, the index it queries (the first of `index` the template has; none: a GetItem)."""

    name: str
    route: str
    index: tuple[str, ...]
    item: str  # "<path>/<step>": the measured image it reads
    page: str | None = None  # the profile's field giving a Query's page size


@dataclass(frozen=True)
class Duration:
    """Where a route's (or a function's) duration comes from: a bench measurement, scaled or added to."""

    key: str
    measured: str  # the name of a duration in docs/lambda-durations.json
    requests: float = 1  # its wait on AWS counted this many times (a function making more requests)
    plus_ms: float = 0  # time added on top, assumed (a webhook's answer)
    note: str = ""


@dataclass(frozen=True)
class CommandTable:
    commands: Mapping[str, Command]
    notifications: Mapping[str, Command]
    paths: Mapping[str, tuple[str, ...]]
    reads: Mapping[str, Read]
    durations: Mapping[str, Duration]


def _command(name: str, body: Mapping[str, Any]) -> Command:
    known = {item.name for item in dataclasses.fields(Command)} - {"name"}
    unknown = set(body) - known
    if unknown:
        raise DataError(f"{COMMANDS.name}: command {name} has unknown keys {sorted(unknown)}")
    return Command(
        name=name,
        route=body.get("route"),
        function=body.get("function"),
        status=body.get("status"),
        put=frozenset(body.get("put", ())),
        set=frozenset(body.get("set", ())),
        remove=frozenset(body.get("remove", ())),
        add=frozenset(body.get("add", ())),
        writes=int(body.get("writes", 1)),
        event=body.get("event"),
    )


def command_table(path: Path = COMMANDS) -> CommandTable:
    raw = tomllib.loads(path.read_text())
    commands = {name: _command(name, body) for name, body in raw["commands"].items()}
    paths = {name: tuple(body["steps"]) for name, body in raw["paths"].items()}
    for name, steps in paths.items():
        for step in steps:
            if step not in commands:
                raise DataError(f"{path.name}: path {name} takes {step}, which [commands] does not list")
    return CommandTable(
        commands=commands,
        notifications={name: _command(name, body) for name, body in raw["notifications"].items()},
        paths=paths,
        reads={
            name: Read(name, body["route"], tuple(body.get("index", ())), body["item"], body.get("page"))
            for name, body in raw["reads"].items()
        },
        durations={key: Duration(key=key, **body) for key, body in raw["durations"].items()},
    )


# -- the measured items ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """An item as measured: each top-level attribute's bytes (name and value), and its value if a string,
    with the seller's id, the order's id and times written `{seller}`, `{order}`, `{time}`."""

    sizes: Mapping[str, int]
    values: Mapping[str, str] = field(default_factory=dict)

    def size(self, attributes: frozenset[str] | None = None) -> int:
        """The item's bytes, or those of the attributes named (the ones it has)."""
        return sum(size for name, size in self.sizes.items() if attributes is None or name in attributes)

    def has(self, attribute: str) -> bool:
        return attribute in self.sizes

    def with_attribute(self, name: str, value: str) -> Image:
        return Image({**self.sizes, name: len(name.encode()) + len(value.encode())}, {**self.values, name: value})


@dataclass(frozen=True)
class Step:
    command: str
    event: str
    item: Image  # after the step
    writes: tuple[Mapping[str, tuple[str, ...]], ...] = ()  # what the code sent (the test compares it)


@dataclass(frozen=True)
class Measured:
    paths: Mapping[str, tuple[Step, ...]]
    feed_item: Image
    channel_items: tuple[Image, ...]
    event_bytes: int
    notification_writes: tuple[Mapping[str, tuple[str, ...]], ...] = ()

    def image(self, reference: str) -> Image:
        """The image "<path>/<step>" names (the item after that step)."""
        path, command = reference.split("/", 1)
        for step in self.paths[path]:
            if step.command == command:
                return step.item
        raise DataError(f"{MEASURED.name}: path {path} has no step {command}")


def _image(raw: Mapping[str, Any]) -> Image:
    return Image(dict(raw["sizes"]), dict(raw.get("values", {})))


def _writes(raw: list[Mapping[str, list[str]]]) -> tuple[Mapping[str, tuple[str, ...]], ...]:
    return tuple({action: tuple(names) for action, names in write.items()} for write in raw)


def measured_from(raw: Mapping[str, Any]) -> Measured:
    paths = {
        name: tuple(
            Step(step["command"], step["event"], _image(step["item"]), _writes(step.get("writes", [])))
            for step in steps
        )
        for name, steps in raw["paths"].items()
    }
    notifications = raw["notifications"]
    return Measured(
        paths=paths,
        feed_item=_image(notifications["feed_item"]),
        channel_items=tuple(_image(item) for item in notifications["channel_items"]),
        event_bytes=notifications["event_bytes"],
        notification_writes=_writes(notifications.get("writes", [])),
    )


def measured(path: Path = MEASURED) -> Measured:
    if not path.exists():
        raise DataError(f"{path} is missing: `.venv/bin/python -m tests.bench.writes` writes it")
    return measured_from(json.loads(path.read_text()))


# -- the profiles --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """A traffic profile (profiles.toml says what each field means)."""

    name: str
    orders_per_second: float
    sellers: float
    largest_seller_share: float
    cancelled_at_once: float
    requested: float
    approved: float
    rejected: float
    escalated: float
    edited: float
    edits_per_edited_order: float
    tracking_events_per_despatched_order: float
    channels_per_seller: float
    order_reads_per_order: float
    list_pages_per_order: float
    status_list_pages_per_order: float
    queue_pages_per_request: float
    warehouse_reads_per_request: float
    portal_tabs_per_seller: float
    feed_poll_seconds: float
    portal_share: float
    list_page_size: float
    feed_page_size: float
    queue_page_size: float

    def scaled(self, factor: float) -> Profile:
        """The same traffic `factor` times over: orders a second and sellers (so portal tabs) alike."""
        return dataclasses.replace(
            self, orders_per_second=self.orders_per_second * factor, sellers=self.sellers * factor
        )

    def with_values(self, values: Mapping[str, float]) -> Profile:
        known = {item.name for item in dataclasses.fields(Profile)} - {"name"}
        unknown = set(values) - known
        if unknown:
            raise DataError(f"unknown profile fields {sorted(unknown)} (known: {', '.join(sorted(known))})")
        changes: dict[str, Any] = {name: float(value) for name, value in values.items()}
        return dataclasses.replace(self, **changes)

    def renamed(self, name: str) -> Profile:
        return dataclasses.replace(self, name=name)


def profiles(path: Path = PROFILES) -> dict[str, Profile]:
    raw = tomllib.loads(path.read_text())
    defaults = raw["defaults"]
    found = {}
    for name, values in raw["profiles"].items():
        merged = {key: value for key, value in {**defaults, **values}.items() if key != "description"}
        try:
            found[name] = Profile(name=name, **{key: float(value) for key, value in merged.items()})
        except TypeError as error:
            raise DataError(f"{path.name}: profile {name}: {error}") from error
    return found


# -- AWS's limits and prices -------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A limit or a price, with where it comes from."""

    value: float
    source: str


@dataclass(frozen=True)
class Aws:
    region: str
    limits: Mapping[str, Figure]
    prices: Mapping[str, Figure]
    prices_date: str
    assumed: Mapping[str, Figure]

    def limit(self, name: str) -> float:
        return self.limits[name].value

    def price(self, name: str) -> float:
        return self.prices[name].value


def aws(path: Path = AWS) -> Aws:
    raw = tomllib.loads(path.read_text())

    def figures(section: str) -> dict[str, Figure]:
        return {name: Figure(float(body["value"]), body["source"]) for name, body in raw[section].items()}

    return Aws(
        region=raw["region"],
        limits=figures("limits"),
        prices=figures("prices"),
        prices_date=raw["prices_date"],
        assumed=figures("assumed"),
    )


# -- the measured Lambda durations -------------------------------------------------------------------


@dataclass(frozen=True)
class MeasuredDuration:
    """A warm invocation measured by `make bench` on moto: CPU time and time waiting on AWS, in ms."""

    name: str
    function: str
    cpu_ms: float
    wait_ms: float
    logged_bytes: float
    samples: int
    measured_at: str
    commit: str
    records: int = 1  # stream records in the timed batch (the notifier's)


@cache
def durations(path: Path = DURATIONS) -> dict[str, MeasuredDuration]:
    if not path.exists():
        raise DataError(f"{path} is missing: `make bench` (its warm section) writes it")
    raw = json.loads(path.read_text())
    return {name: MeasuredDuration(name=name, **body) for name, body in raw["durations"].items()}
