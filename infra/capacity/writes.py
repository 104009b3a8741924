"""Which writes touch which index: a command's attributes (commands.toml) against each index's keys and
projection (the template), by DynamoDB's rules for global secondary indexes:

- an item is in an index when it has every key attribute of the index (so an index keyed on an
  attribute few items have is sparse); a write that gives it the last of them puts an entry, a write
  that removes one deletes the entry;
- a write that changes a key attribute of an entry is a delete and a put;
- a write that changes a projected attribute (KEYS_ONLY: the keys; INCLUDE: the keys and the
  NonKeyAttributes; ALL: any attribute) and no key updates the entry; one that changes nothing the
  index projects does not touch it;
- each costs ceil(entry size / 1 KB) write units: the entry's keys (the index's and the table's) and
  projected attributes; a delete the old entry's, an update the larger of old and new (as the table's
  own update is billed on the larger image).

A SET is taken to change its attribute: every command's SETs do (statuses only move, version and
updated_at change at every write, an edit must change a field, a request's keys are new). A write
refused by its condition costs the item's write units on the table, and writes no index.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from infra.capacity.data import Command, CommandTable, DataError, Image, Measured, Step
from infra.capacity.stack import Index, TableSpec

KB = 1024
TABLE = "table"  # the key of the table's own units in a lifecycle's figures
PUT, DELETE, UPDATE = "put", "delete", "update"


def write_units(size: int) -> int:
    """Write units of one item write: a unit a KB begun, one at least."""
    return max(1, math.ceil(size / KB))


def holds(index: Index, image: Image | None) -> bool:
    return image is not None and all(image.has(key) for key in index.keys)


def entry_size(index: Index, image: Image, table_keys: tuple[str, ...], overhead: int = 0) -> int:
    """The bytes of the item's entry in the index: its keys and the attributes the index projects."""
    return overhead + sum(size for name, size in image.sizes.items() if index.projects(name, table_keys))


def partition_of(index: Index, image: Image) -> str:
    """The entry's partition key value, as measured ({seller} for the seller's id, and so on)."""
    return image.values.get(index.partition_key, f"<{index.partition_key}>")


@dataclass(frozen=True)
class IndexWrite:
    index: str
    kind: str  # put, delete or update
    units: int
    partition: str  # the partition key value written (general: {seller}, {order}, {time})


def index_writes(
    index: Index,
    command: Command,
    before: Image | None,
    after: Image,
    table_keys: tuple[str, ...],
    overhead: int = 0,
) -> list[IndexWrite]:
    """What `command`, taking the item from `before` to `after`, writes to `index`."""
    was, now = holds(index, before), holds(index, after)

    def write(kind: str, image: Image, size: int | None = None) -> IndexWrite:
        units = write_units(size if size is not None else entry_size(index, image, table_keys, overhead))
        return IndexWrite(index.name, kind, units, partition_of(index, image))

    if not was and not now:
        return []
    if not now:
        assert before is not None
        return [write(DELETE, before)]
    if not was:
        return [write(PUT, after)]
    assert before is not None
    if set(index.keys) & command.written:
        return [write(DELETE, before), write(PUT, after)]
    if any(index.projects(name, table_keys) for name in command.written):
        larger = max(entry_size(index, image, table_keys, overhead) for image in (before, after))
        return [write(UPDATE, after, larger)]
    return []


@dataclass(frozen=True)
class StepWrites:
    """One command's writes: the table's units (a refused first try included), each index's, the bytes."""

    command: Command
    table_units: int
    refused_units: int
    indexes: tuple[IndexWrite, ...]
    item_bytes: int  # the larger image: what the stream's shard carries

    def index_units(self, name: str) -> int:
        return sum(write.units for write in self.indexes if write.index == name)


def step_writes(spec: TableSpec, command: Command, before: Image | None, after: Image, overhead: int = 0) -> StepWrites:
    written = max(after.size(), before.size() if before is not None and not command.is_put else 0)
    refused = (command.writes - 1) * write_units(before.size()) if before is not None else 0
    indexes = tuple(
        write for index in spec.indexes for write in index_writes(index, command, before, after, spec.keys, overhead)
    )
    return StepWrites(command, write_units(written) + refused, refused, indexes, written)


def path_writes(
    spec: TableSpec, table: CommandTable, measured: Measured, path: str, overhead: int = 0
) -> list[StepWrites]:
    """Each step's writes along a measured path."""
    found, before = [], None
    for step in measured.paths[path]:
        found.append(step_writes(spec, table.commands[step.command], before, step.item, overhead))
        before = step.item
    return found


def lifecycle(spec: TableSpec, table: CommandTable, measured: Measured, path: str, overhead: int = 0) -> dict[str, int]:
    """Write units along a path: the table's, and each index's."""
    steps = path_writes(spec, table, measured, path, overhead)
    figures = {TABLE: sum(step.table_units for step in steps)}
    for index in spec.indexes:
        figures[index.name] = sum(step.index_units(index.name) for step in steps)
    return figures


def unwritten_keys(spec: TableSpec, table: CommandTable) -> list[str]:
    """Index key attributes no command writes: such an index stays empty, which the table cannot mean."""
    written = set().union(*(command.written for command in table.commands.values()))
    return [
        f"index {index.name}: no command in commands.toml writes its key {key}"
        for index in spec.indexes
        for key in index.keys
        if key not in written
    ]


# -- an attribute the store does not write yet (a preview of a template ahead of the code) ------------


def derive(
    table: CommandTable, measured: Measured, derived: Mapping[str, tuple[str, ...]]
) -> tuple[CommandTable, Measured]:
    """The command table and items as if the store also wrote each derived attribute: with every write
    of one of its sources, its value their values joined by "#" (present when they all are)."""
    commands = dict(table.commands)
    paths = dict(measured.paths)
    for name, sources in derived.items():
        for key, command in commands.items():
            if command.written & set(sources) and command.is_put:
                commands[key] = replace(command, put=command.put | {name})
            elif command.written & set(sources):
                commands[key] = replace(command, set=command.set | {name})
        paths = {path: tuple(_with_derived(step, name, sources) for step in steps) for path, steps in paths.items()}
    return replace(table, commands=commands), replace(measured, paths=paths)


def _with_derived(step: Step, name: str, sources: tuple[str, ...]) -> Step:
    item = step.item
    if not all(source in item.values for source in sources):
        missing = [source for source in sources if source not in item.values]
        if any(source in item.sizes for source in missing):
            raise DataError(f"--derive {name}: {', '.join(missing)} is not a string attribute")
        return step
    return replace(step, item=item.with_attribute(name, "#".join(item.values[source] for source in sources)))
