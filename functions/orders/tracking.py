"""A despatched order's tracking timeline (docs/api.md §12): how a batch of carrier events joins it. Pure.

Carriers answer late, twice and out of order, so the timeline is a set of events keyed by `event_id`,
ordered by when each happened (`occurred_at`, then the status's precedence, then the id), never by when
it arrived: merging the same events in any order, any number of times, gives the same timeline. An
event already held changes nothing (the one held wins). At most `MAX_KEPT` events are kept: beyond
that the oldest go (the first scans of a long journey), and the newest, which is the courier status,
always stays. The order's `courier_status` is the newest event; the order is told (and written) only
when that event's status differs from the order's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

from orders.couriers import CourierStatus, precedence

MAX_EVENTS_PER_CALL = 50
MAX_KEPT = 100
# An event may say it happened at most this far ahead of the server's clock (carriers' clocks drift).
FUTURE_TOLERANCE_SECONDS = 3600


class EventRecord(TypedDict):
    """One carrier event as the timeline stores it and `GET /orders/{id}/tracking` shows it."""

    event_id: str
    status: str
    occurred_at: str  # UTC, the store's timestamp format, so that strings sort as times
    location: NotRequired[str | None]
    description: NotRequired[str | None]
    received_at: NotRequired[str]


class CourierStatusRecord(TypedDict):
    """An order's `courier_status`: the newest event, as the order stores it."""

    status: str
    occurred_at: str
    location: str | None
    description: str | None


def order_key(event: Mapping[str, Any]) -> tuple[str, int, str]:
    """Where an event stands in the timeline: when it happened, then how far along, then its id."""
    return event["occurred_at"], precedence(CourierStatus(event["status"])), event["event_id"]


@dataclass(frozen=True)
class Merged:
    """A batch joined to the timeline: what is kept (oldest first), what the batch added, what went."""

    kept: list[EventRecord]
    added: list[str]  # the batch's event ids that were not held and are kept, in the timeline's order
    dropped: list[str]  # event ids that went beyond MAX_KEPT (held ones or the batch's own), oldest first

    @property
    def newest(self) -> EventRecord | None:
        return self.kept[-1] if self.kept else None

    @property
    def changed(self) -> bool:
        """Whether the timeline changes: some event of the batch was not held and is kept (an event older than
        the 100 kept, sent again after it went, changes nothing)."""
        return bool(self.added)


def merge(held: Iterable[EventRecord], batch: Iterable[EventRecord], limit: int = MAX_KEPT) -> Merged:
    """The timeline after `batch`: held events stay as they are, new ids join, the oldest beyond `limit` go."""
    by_id: dict[str, EventRecord] = {}
    for event in held:
        by_id.setdefault(event["event_id"], event)
    added = []
    for event in batch:
        if event["event_id"] not in by_id:
            by_id[event["event_id"]] = event
            added.append(event["event_id"])
    timeline = sorted(by_id.values(), key=order_key)
    cut = max(0, len(timeline) - limit)
    order = {event["event_id"]: index for index, event in enumerate(timeline)}
    kept = timeline[cut:]
    return Merged(
        kept=kept,
        added=sorted((event_id for event_id in added if order[event_id] >= cut), key=order.__getitem__),
        dropped=[event["event_id"] for event in timeline[:cut]],
    )


def courier_status(event: EventRecord) -> CourierStatusRecord:
    """The order's `courier_status` when `event` is the newest."""
    return {
        "status": event["status"],
        "occurred_at": event["occurred_at"],
        "location": event.get("location"),
        "description": event.get("description"),
    }


def status_changes(current: Mapping[str, Any] | None, newest: EventRecord | None) -> bool:
    """Whether the order's courier status moves: the newest event's status is not the order's, and the
    newest event is not older than the one the order holds (a late event never moves it back)."""
    if newest is None:
        return False
    if current is None:
        return True
    if newest["status"] == current["status"]:
        return False
    return (newest["occurred_at"], precedence(CourierStatus(newest["status"]))) > (
        current["occurred_at"],
        precedence(CourierStatus(current["status"])),
    )
