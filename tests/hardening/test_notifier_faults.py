"""The notifier when things break: its runtime dies mid-batch, SNS is down or drops its answers.

The notifier and the stream poller are used as built (orders/handlers/notifier.py,
infra/local/stream_poller.py with template.yaml's mapping settings). The promise (docs/api.md §4): a
write that succeeded is always told, even if SNS was down at the time; a change may be told
more than once, and then every copy carries the same event_id (and the same body), so that a
subscriber drops the repeats.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from orders.handlers import notifier
from orders.notification import events as notifications
from tests.hardening.harness import Delivered, Fault, Notifications, Script, expected_events, faulty
from tests.support.api import SellerPortal
from tests.support.contract import STATES
from tests.support.notifications import received


class RuntimeDied(BaseException):
    """The Lambda runtime gone (timeout, out of memory): nothing inside the function can catch it."""


class DyingNotifier:
    """The real notifier, whose runtime dies at chosen publish attempts (counted over all invocations)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, die_at: set[int]):
        self.die_at = die_at  # attempt numbers, from 1: the runtime dies instead of making them
        self.attempts = 0
        self.deaths = 0
        self._publish = notifications.publish
        monkeypatch.setattr(notifications, "publish", self.publish)

    def publish(self, client: Any, topic_arn: str, event: Any) -> str:
        self.attempts += 1
        if self.attempts in self.die_at:
            self.deaths += 1
            raise RuntimeDied
        return self._publish(client, topic_arn, event)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        try:
            return notifier.handler(event, context)
        except RuntimeDied:
            # What the event source mapping sees: the invocation failed, with no batch response.
            raise RuntimeError("Runtime exited without providing a reason") from None


def orders_with_changes(count: int) -> list[str]:
    """`count` orders driven (through the API) to the states of §2 in turn: many notified changes."""
    portal = SellerPortal("S-1")
    return [portal.order_in(STATES[n % len(STATES)], f"NF-{n}")["order_id"] for n in range(count)]


def stored_orders(order_ids: list[str]) -> list[dict[str, Any]]:
    portal = SellerPortal("S-1")
    return [portal.get(order_id).body for order_id in order_ids]


def assert_every_event_told_and_repeats_identical(orders: list[dict[str, Any]], delivered: list[Delivered]) -> int:
    """Each change of each order's history told at least once, nothing else; the number of repeats."""
    expected = {event_id: event_type for order in orders for event_id, event_type in expected_events(order)}
    copies: dict[str, list[Delivered]] = defaultdict(list)
    for message in delivered:
        copies[message.event["event_id"]].append(message)
    assert copies.keys() == expected.keys(), (
        sorted(expected.keys() - copies.keys()),
        sorted(copies.keys() - expected.keys()),
    )
    for event_id, same in copies.items():
        assert same[0].event["event_type"] == expected[event_id]
        assert all(copy.raw == same[0].raw and copy.attributes == same[0].attributes for copy in same)
    # And each order's changes were first told in the order they happened.
    first_seen: dict[str, list[int]] = defaultdict(list)
    for event_id in dict.fromkeys(message.event["event_id"] for message in delivered):
        order_id, version = event_id.split(":")
        first_seen[order_id].append(int(version))
    assert all(versions == sorted(versions) for versions in first_seen.values())
    return sum(len(same) - 1 for same in copies.values())


def test_a_notifier_that_dies_mid_batch_tells_everything_and_repeats_carry_the_same_event_id(
    notification_channels, monkeypatch, figures
):
    # Given orders with many changes to tell, and a notifier whose runtime dies part-way through
    # batches: at its 4th publish (the first batch has told three), 5th (the retry, at once), 12th and 17th
    dying = DyingNotifier(monkeypatch, die_at={4, 5, 12, 17})
    told = Notifications.start(notification_channels, dying)
    order_ids = orders_with_changes(20)

    # When the stream is delivered (the mapping retries and halves failed batches, as Lambda does)
    told.deliver()

    # Then every change was told, some more than once, every copy identical, nothing given up
    assert dying.deaths == 4, dying.attempts
    repeats = assert_every_event_told_and_repeats_identical(stored_orders(order_ids), told.received)
    assert repeats > 0
    assert received(notification_channels.failures_queue_url) == []
    figures.add("fault_scenarios")
    figures.add("faults_injected", dying.deaths)
    figures.add("duplicate_deliveries", repeats)
    figures.add("events_checked", len(told.received))


@pytest.mark.parametrize(
    "outage",
    [
        pytest.param([Fault.UNAVAILABLE] * 6, id="SNS 503 for six publishes"),
        pytest.param([Fault.THROTTLE, Fault.UNAVAILABLE] * 3, id="SNS throttling then 503"),
        pytest.param([Fault.APPLY_AND_DROP] * 4, id="SNS publishes but its answers are lost"),
        pytest.param(
            [Fault.UNAVAILABLE, Fault.APPLY_AND_DROP, Fault.THROTTLE, Fault.APPLY_AND_DROP, Fault.UNAVAILABLE] * 2,
            id="all of it",
        ),
    ],
)
def test_sns_unavailable_on_the_wire_delays_but_loses_nothing(notification_channels, monkeypatch, outage, figures):
    # Given orders with changes to tell, and SNS failing on the network (the notifier's own client,
    # two attempts per publish so that its failures reach the notifier and the mapping's retries)
    order_ids = orders_with_changes(10)
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    told = Notifications.start(notification_channels)
    script = Script(list(outage), operations=frozenset({"Publish"}))

    # When the stream is delivered while SNS fails, then recovers
    with faulty("sns", script, monkeypatch) as sns:
        told.deliver()

    # Then everything was told once SNS came back; a publish whose answer was lost was told twice, identically
    assert sum(sns.faults().values()) == len(outage)
    repeats = assert_every_event_told_and_repeats_identical(stored_orders(order_ids), told.received)
    assert repeats == sns.faults()[Fault.APPLY_AND_DROP]
    assert received(notification_channels.failures_queue_url) == []
    figures.add("fault_scenarios")
    figures.add("faults_injected", len(outage))
    figures.add("duplicate_deliveries", repeats)
    figures.add("events_checked", len(told.received))
