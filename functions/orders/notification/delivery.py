"""Delivering one event to a seller's channels (docs/api.md §7), apart from SQS: record it in the
feed, then POST it, signed, to each channel that takes its type and has not answered 2xx for it yet.

The delivery function (orders/handlers/deliver_notifications.py) runs this per message of its batch and
decides, from the outcome, whether the message is done, waits for a retry, or goes to the
dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from orders.domain import NOTIFIED_EVENT_NAMES
from orders.notification import webhooks
from orders.notification.events import TEST
from orders.notification.models import Notification
from orders.notification.store import Lease, NotificationStore

Post = Callable[[webhooks.Target, bytes, dict[str, str]], webhooks.Answer]


class Unreadable(ValueError):
    """A message that is no event of ours: retrying cannot help."""


@dataclass
class Outcome:
    """What one event's delivery did: channels it reached now, those it failed (with why), those reached on an
    earlier try, or the attempt it stood down for (another copy of the event holds it)."""

    event_id: str
    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # answered 2xx on an earlier try
    stood_down_for: str | None = None

    @property
    def done(self) -> bool:
        return not self.failed


def read_event(body: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """The event a message carries; Unreadable when it is not one (or its attributes disagree with it)."""
    try:
        event: dict[str, Any] = json.loads(body)
    except ValueError as error:
        raise Unreadable("not JSON") from error
    if not isinstance(event, dict):
        raise Unreadable("not an object")
    if event.get("event_type") == TEST:
        if not all(isinstance(event.get(name), str) for name in ("event_id", "seller_id", "channel_id", "occurred_at")):
            raise Unreadable("a TEST event without its fields")
    elif event.get("event_type") in NOTIFIED_EVENT_NAMES:
        try:
            event = Notification.model_validate(event).model_dump(mode="json")
        except ValueError as error:
            raise Unreadable(f"not a §4 event: {error}") from error
    else:
        raise Unreadable(f"unknown event type {event.get('event_type')!r}")
    stated = (attributes.get("seller_id") or {}).get("stringValue")
    if stated is not None and stated != event["seller_id"]:
        raise Unreadable("the seller_id attribute is not the event's")
    return event


def deliver(
    event: dict[str, Any],
    store: NotificationStore,
    *,
    allow_local: bool,
    pool: ThreadPoolExecutor,
    lease: Lease,
    post: Post | None = None,
) -> Outcome:
    """Record `event` in its seller's feed (once) holding `lease`, then send it to the channels still owed it.

    A copy of the event that finds another attempt's live lease on it stands down: done, since that
    attempt's own message is retried if it fails. TEST events are in no feed and hold no lease.
    """
    outcome = Outcome(event["event_id"])
    channels = store.channels(event["seller_id"]) if event["event_type"] == TEST else None
    if channels is not None:
        owed = [channel for channel in channels if channel["channel_id"] == event["channel_id"]]
        _send(event, owed, outcome, allow_local=allow_local, pool=pool, post=post or webhooks.post)
        return outcome
    recorded = store.record(event, lease)
    if recorded.held_by is None:
        owed = [c for c in store.channels(event["seller_id"]) if event["event_type"] in c["event_types"]]
        if any(channel["channel_id"] not in recorded.delivered for channel in owed) and not recorded.new:
            recorded = store.take_lease(event, lease)  # an earlier attempt's event: hold it before sending
    if recorded.held_by is not None:
        outcome.stood_down_for = recorded.held_by
        return outcome
    outcome.skipped = [channel["channel_id"] for channel in owed if channel["channel_id"] in recorded.delivered]
    owed = [channel for channel in owed if channel["channel_id"] not in recorded.delivered]
    _send(event, owed, outcome, allow_local=allow_local, pool=pool, post=post or webhooks.post)
    if outcome.delivered:
        store.mark_delivered(event, set(outcome.delivered), lease)
    return outcome


def _send(
    event: dict[str, Any],
    owed: list[dict[str, Any]],
    outcome: Outcome,
    *,
    allow_local: bool,
    pool: ThreadPoolExecutor,
    post: Post,
) -> None:
    """POST the event, signed, to each channel owed it, at once; what each answered goes into `outcome`."""
    body = json.dumps(event, separators=(",", ":")).encode()

    def send(channel: dict[str, Any]) -> tuple[str, webhooks.Answer]:
        try:
            target = webhooks.check(channel["url"], allow_local=allow_local)  # again: DNS can change
        except webhooks.UnsafeUrl as unsafe:
            return channel["channel_id"], webhooks.Answer(None, f"not called: {unsafe}")
        headers = {
            "X-Event-Id": event["event_id"],
            "X-Event-Type": event["event_type"],
            "X-Signature": webhooks.signature(channel["secret"], body),
        }
        return channel["channel_id"], post(target, body, headers)

    for channel_id, answer in pool.map(send, owed):
        if answer.delivered:
            outcome.delivered.append(channel_id)
        else:
            outcome.failed[channel_id] = answer.error or f"HTTP {answer.status}"
