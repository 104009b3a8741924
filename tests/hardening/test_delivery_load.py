"""Deliveries under load (docs/api.md §7): many sellers, each with two channels, commands sent from
threads, and one seller's endpoint failing every answer. Afterwards an audit: every event of every
seller reached each of that seller's working channels exactly once, never another seller's; the
failing endpoint's events are each on the dead-letter queue once; the feeds hold each event once.

On the fast-timer stack (tests/conftest.py's `fast_stack`: PARAM_DeliveryRetryDelaysSeconds=1,1,1).
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.local.webhook_receiver import Receiver
from tests.hardening.harness import SCALE
from tests.support.local_stack import FAST_RETRIES, Portal, Warehouse, new_seller, wait_for

pytestmark = pytest.mark.e2e

SELLERS = 8 * SCALE
NOTIFIED = {"ORDER_CANCELLED", "CANCELLATION_REQUESTED", "CANCELLATION_APPROVED", "CANCELLATION_REJECTED"}


@pytest.fixture
def load_stack(fast_stack):
    return fast_stack


def seller_story(api_url: str, receiver: Receiver, broken: bool) -> tuple[Portal, list[str]]:
    """A seller with two channels, and orders cancelled, approved and rejected; the event ids they made."""
    portal, warehouse = Portal(api_url, new_seller()), Warehouse(api_url)
    for name in ("a", "b"):
        path = f"/{portal.seller_id}/{name}{'-broken' if broken and name == 'b' else ''}"
        answer = portal.request("POST", "/notification-channels", {"url": receiver.url(path)})
        assert answer.status_code == 201, answer.text
        receiver.secrets[path] = answer.json()["secret"]
    cancelled, approved, rejected = (portal.create_order() for _ in range(3))
    assert portal.request("POST", f"/orders/{cancelled['order_id']}/cancel").status_code == 200
    for order, decision in ((approved, "APPROVED"), (rejected, "REJECTED")):
        assert warehouse.move(order["order_id"], "SENT_TO_WAREHOUSE").status_code == 200
        assert portal.request("POST", f"/orders/{order['order_id']}/cancellation-request").status_code == 202
        assert warehouse.decide(order["order_id"], decision, "ALREADY_PACKED").status_code == 200
    ids = []
    for order in (cancelled, approved, rejected):
        read = portal.request("GET", f"/orders/{order['order_id']}").json()
        ids += [f"{read['order_id']}:{n}" for n, entry in enumerate(read["history"], 1) if entry["event"] in NOTIFIED]
    return portal, ids


def test_many_sellers_and_a_failing_endpoint_lose_nothing_and_double_nothing(load_stack, figures):
    receiver = Receiver()
    receiver.script = lambda path, number: 500 if path.endswith("-broken") else 200
    with receiver:
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            stories = list(pool.map(lambda n: seller_story(load_stack.api_url, receiver, n == 0), range(SELLERS)))
        expected = sum(len(ids) for _, ids in stories)
        working = 2 * expected - len(stories[0][1])
        wait_for(
            lambda: [d for d in receiver.deliveries if d.answered == 200],
            lambda found: len(found) >= working,
            timeout=60,
        )
        broken_path = f"/{stories[0][0].seller_id}/b-broken"
        tries = FAST_RETRIES + 1  # the first and each retry
        wait_for(lambda: receiver.of(broken_path), lambda found: len(found) >= tries * len(stories[0][1]), timeout=60)
        load_stack.deliveries_settled()  # nothing more arrives
        elapsed = time.monotonic() - started

        # Every working channel: each of its seller's events exactly once, and nothing of anyone else's
        duplicates = lost = foreign = 0
        for number, (portal, ids) in enumerate(stories):
            for name in ("a", "b"):
                path = f"/{portal.seller_id}/{name}{'-broken' if number == 0 and name == 'b' else ''}"
                got = Counter(d.event_id for d in receiver.of(path) if d.answered == 200)
                if path == broken_path:
                    assert got == Counter()
                    continue
                duplicates += sum(count - 1 for count in got.values() if count > 1)
                lost += len(set(ids) - set(got))
                foreign += len(set(got) - set(ids))
            feed = portal.request("GET", "/notifications?limit=100").json()["notifications"]
            assert sorted(event["event_id"] for event in feed) == sorted(ids)
        assert all(d.signature_valid for d in receiver.deliveries)
        assert (duplicates, lost, foreign) == (0, 0, 0)

        # The failing endpoint: the first try and each retry, then the dead-letter queue once
        broken_tries = Counter(d.event_id for d in receiver.of(broken_path))
        assert set(broken_tries.values()) == {tries} and set(broken_tries) == set(stories[0][1])
        sqs = load_stack.aws("sqs")
        dead = sqs.get_queue_url(QueueName="orders-local-DeliveryDeadLetterQueue")["QueueUrl"]
        bodies: list[str] = []
        while messages := sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages"
        ):
            bodies += [m["Body"] for m in messages]
        dead_ids = Counter(event_id for event_id in stories[0][1] for body in bodies if f'"{event_id}"' in body)
        assert dead_ids == Counter({event_id: 1 for event_id in stories[0][1]})

    figures.add("delivery_load_events", expected)
    figures.add("delivery_load_deliveries", len(receiver.deliveries))
    figures.add("delivery_duplicates", duplicates)
    figures.add("delivery_lost", lost)
    figures.note(
        "delivery load",
        f"{SELLERS} sellers, {expected} events, {working} deliveries owed to working channels, all made once "
        f"({len(receiver.deliveries)} POSTs with the failing endpoint's tries), {len(dead_ids)} dead-lettered, "
        f"{elapsed:.1f} s",
    )
