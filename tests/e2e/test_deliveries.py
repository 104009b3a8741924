"""Sellers hear the outcome, end to end through `make run` (docs/api.md §7): signed webhooks to a test
receiver on a free port, retried on the template's schedule (shortened by PARAM_ to a second
apart), the dead-letter queue, and the feed.

The stack is the fast-timer one (tests/conftest.py's `fast_stack`), started as
`PARAM_DeliveryRetryDelaysSeconds=1,1,1 PARAM_CancellationRequestSlaSeconds=6 make run` would.
"""

from __future__ import annotations

import socket
import time

import pytest

from infra.local.webhook_receiver import Receiver, SlowReceiver
from tests.support.local_stack import (
    FAST_RETRIES,
    Portal,
    RunningStack,
    Warehouse,
    new_seller,
    session,
    sleep_until,
    wait_for,
)

RETRIES = FAST_RETRIES
ALL_EVENTS = [
    "ORDER_CANCELLED",
    "CANCELLATION_REQUESTED",
    "CANCELLATION_APPROVED",
    "CANCELLATION_REJECTED",
    "CANCELLATION_REQUEST_OVERDUE",
]


@pytest.fixture
def delivery_stack(fast_stack: RunningStack) -> RunningStack:
    return fast_stack


@pytest.fixture
def portal(delivery_stack) -> Portal:
    return Portal(delivery_stack.api_url, new_seller())


@pytest.fixture
def warehouse(delivery_stack) -> Warehouse:
    return Warehouse(delivery_stack.api_url)


def register(portal: Portal, receiver: Receiver, path: str, event_types: list[str] | None = None) -> dict:
    body = {"url": receiver.url(path), **({"event_types": event_types} if event_types else {})}
    answer = portal.request("POST", "/notification-channels", body)
    assert answer.status_code == 201, answer.text
    receiver.secrets[path] = answer.json()["secret"]
    return answer.json()


def feed(portal: Portal) -> list[dict]:
    found, token = [], None
    while True:
        page = portal.request("GET", "/notifications?limit=100" + (f"&next_token={token}" if token else "")).json()
        found += page["notifications"]
        token = page["next_token"]
        if token is None:
            return found


def the_story(portal: Portal, warehouse: Warehouse, stack: RunningStack) -> list[str]:
    """Every §4 event once for this seller; their event ids, in order."""
    cancelled = portal.create_order()
    assert portal.request("POST", f"/orders/{cancelled['order_id']}/cancel").status_code == 200
    approved, rejected = portal.create_order(), portal.create_order()
    due = []
    for order in (approved, rejected):
        assert warehouse.move(order["order_id"], "SENT_TO_WAREHOUSE").status_code == 200
        answer = portal.request("POST", f"/orders/{order['order_id']}/cancellation-request")
        assert answer.status_code == 202
        due.append(answer.json()["cancellation"]["request"]["due_at"])
    sleep_until(max(due))  # past the time limit
    sweep = session().post(f"{stack.api_url}/_local/schedules/EscalationFunction", timeout=30).json()
    assert sweep["result"]["escalated"] >= 2
    assert warehouse.decide(approved["order_id"], "APPROVED").status_code == 200
    assert warehouse.decide(rejected["order_id"], "REJECTED", "ALREADY_PACKED").status_code == 200
    orders = {
        o["order_id"]: portal.request("GET", f"/orders/{o['order_id']}").json() for o in (cancelled, approved, rejected)
    }
    return [
        f"{order_id}:{version}"
        for order_id, order in orders.items()
        for version in range(2, order["version"] + 1)
        if order["history"][version - 1]["event"] in ALL_EVENTS
    ]


def test_each_event_reaches_each_matching_channel_once_signed_and_the_feed_lists_each_once(
    delivery_stack, portal, warehouse, receiver
):
    everything = register(portal, receiver, "/everything")
    register(portal, receiver, "/outcomes", ["CANCELLATION_APPROVED", "CANCELLATION_REJECTED"])
    other = Portal(delivery_stack.api_url, new_seller())
    register(other, receiver, "/other-seller")

    ids = the_story(portal, warehouse, delivery_stack)
    assert len(ids) == 7  # cancelled; requested ×2, overdue ×2, approved, rejected

    got = wait_for(lambda: receiver.of("/everything"), lambda found: len(found) >= len(ids), timeout=30)
    delivery_stack.deliveries_settled()  # and no more come
    assert sorted(d.event_id for d in receiver.of("/everything")) == sorted(ids)
    assert all(d.signature_valid for d in receiver.deliveries)
    assert {d.event_type for d in got} == set(ALL_EVENTS)
    outcomes = receiver.of("/outcomes")
    assert sorted(d.event_type for d in outcomes) == ["CANCELLATION_APPROVED", "CANCELLATION_REJECTED"]
    assert receiver.of("/other-seller") == []  # never to the wrong seller
    for delivery in got:
        assert delivery.body["seller_id"] == portal.seller_id and delivery.body["event_id"] == delivery.event_id

    listed = feed(portal)
    assert [event["event_id"] for event in listed] == sorted(
        ids, key=lambda event_id: next(d.body["occurred_at"] for d in got if d.event_id == event_id), reverse=True
    )
    assert feed(other) == []

    # The test route: a signed TEST event, to that channel alone, not in the feed
    sent = portal.request("POST", f"/notification-channels/{everything['channel_id']}/test")
    assert sent.status_code == 202
    [test] = wait_for(
        lambda: [d for d in receiver.of("/everything") if d.event_type == "TEST"], lambda found: found, timeout=15
    )
    assert test.signature_valid and test.event_id == sent.json()["event_id"]
    assert test.body["channel_id"] == everything["channel_id"]
    assert [d for d in receiver.of("/outcomes") if d.event_type == "TEST"] == []
    assert len(feed(portal)) == len(ids)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_receiver_failing_its_first_answers_still_gets_the_event_once_per_2xx(
    delivery_stack, portal, warehouse, receiver
):
    # 500 twice; a hang past the 5 s timeout once; and an endpoint that refuses connections at first
    receiver.script = lambda path, number: {
        "/server-error": 500 if number <= 2 else 200,
        "/hangs": "hang" if number == 1 else 200,
    }.get(path, 200)
    register(portal, receiver, "/server-error")
    register(portal, receiver, "/hangs")
    late = Receiver(port=free_port())
    answer = portal.request("POST", "/notification-channels", {"url": late.url("/late")})
    late.secrets["/late"] = answer.json()["secret"]
    order = portal.create_order()

    assert portal.request("POST", f"/orders/{order['order_id']}/cancel").status_code == 200
    # The first try meets nothing listening: it is made right after the event is put in the feed.
    wait_for(lambda: feed(portal), lambda found: found, timeout=15)
    wait_for(lambda: receiver.of("/server-error"), lambda found: found, timeout=15)  # that try, made to every channel
    with late:
        wait_for(lambda: late.of("/late"), lambda found: found, timeout=20)
        errors = wait_for(lambda: receiver.of("/server-error"), lambda found: len(found) >= 3, timeout=20)
        hangs = wait_for(lambda: receiver.of("/hangs"), lambda found: len(found) >= 2, timeout=30)
        delivery_stack.deliveries_settled()
        assert [d.answered for d in receiver.of("/server-error")] == [500, 500, 200]
        assert len(receiver.of("/hangs")) == 2 and len(late.of("/late")) == 1
    assert {d.event_id for d in [*errors, *hangs]} == {f"{order['order_id']}:2"}
    assert all(d.signature_valid for d in [*receiver.deliveries, *late.deliveries])


def test_a_channel_failing_for_ever_ends_in_the_dead_letter_queue_and_nobody_else_waits(
    delivery_stack, portal, warehouse, receiver
):
    receiver.script = lambda path, number: 503 if path == "/broken" else 200
    register(portal, receiver, "/broken")
    register(portal, receiver, "/working")
    other = Portal(delivery_stack.api_url, new_seller())
    register(other, receiver, "/other")
    order = portal.create_order()
    started = time.monotonic()

    assert portal.request("POST", f"/orders/{order['order_id']}/cancel").status_code == 200
    others = other.create_order()
    assert other.request("POST", f"/orders/{others['order_id']}/cancel").status_code == 200

    # The other channel and the other seller receive at once, while the broken one is retried
    wait_for(lambda: receiver.of("/working") + receiver.of("/other"), lambda found: len(found) >= 2, timeout=15)
    assert time.monotonic() - started < 10
    broken = wait_for(lambda: receiver.of("/broken"), lambda found: len(found) >= RETRIES + 1, timeout=30)
    assert [d.answered for d in broken] == [503] * (RETRIES + 1)

    sqs = delivery_stack.aws("sqs")
    dead = sqs.get_queue_url(QueueName="orders-local-DeliveryDeadLetterQueue")["QueueUrl"]
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", []
        ),
        lambda found: any(order["order_id"] in m["Body"] for m in found),
        timeout=15,
    )
    [given_up] = [m for m in messages if order["order_id"] in m["Body"]]
    assert f"after {RETRIES + 1} tries" in given_up["MessageAttributes"]["reason"]["StringValue"]
    delivery_stack.deliveries_settled()
    assert len(receiver.of("/broken")) == RETRIES + 1 and len(receiver.of("/working")) == 1
    assert [event["event_id"] for event in feed(portal)] == [f"{order['order_id']}:2"]  # in the feed all the same


def test_a_receiver_trickling_its_answer_is_cut_off_at_5_s_and_holds_no_other_sellers_event_up(
    delivery_stack, portal, receiver
):
    # The red team's receiver: its answer a byte every 0.5 s (59 bytes: 29.5 s), the first time; then at once.
    other = Portal(delivery_stack.api_url, new_seller())
    register(other, receiver, "/prompt")
    with SlowReceiver(mode="trickle", pace=0.5, slow_for=1) as slow:
        answer = portal.request("POST", "/notification-channels", {"url": slow.url("/trickle")})
        assert answer.status_code == 201, answer.text
        trickled, prompt = portal.create_order(), other.create_order()
        assert portal.request("POST", f"/orders/{trickled['order_id']}/cancel").status_code == 200
        [held] = wait_for(lambda: [h for h in slow.connections if h.requested_at], lambda found: found, timeout=15)

        # Another seller's event, while the trickle holds its delivery
        assert other.request("POST", f"/orders/{prompt['order_id']}/cancel").status_code == 200
        answered = time.time()
        [arrived] = wait_for(lambda: receiver.of("/prompt"), lambda found: found, timeout=15)
        latency = arrived.received_at - answered

        gone = wait_for(lambda: held.left_at, lambda found: found is not None, timeout=15)
        held_for = gone - held.requested_at
        retried = wait_for(lambda: slow.connections, lambda found: len(found) >= 2 and found[1].sent, timeout=15)
        delivery_stack.deliveries_settled()

    print(
        f"\ntrickling receiver held for {held_for:.2f} s; "
        f"the other seller's event arrived {latency:.2f} s after its command"
    )
    assert latency < 2.5, f"the other seller's event waited {latency:.1f} s behind the trickle"
    assert held_for < 5.6, f"the trickling POST held its connection {held_for:.1f} s"
    assert held.sent < len(slow.answer)  # cut off mid-answer: not delivered, so retried
    assert len(retried) == 2 and retried[1].sent == len(slow.answer)  # the retry, answered at once: delivered
    assert arrived.event_id == f"{prompt['order_id']}:2" and arrived.signature_valid


def test_the_demo_sellers_own_systems_received_their_outcomes(delivery_stack):
    answer = session().get(
        f"{delivery_stack.api_url}/_local/webhook-deliveries", params={"seller_id": "S-1"}, timeout=10
    )
    deliveries = answer.json()["deliveries"]
    assert {d["event_type"] for d in deliveries} >= {
        "ORDER_CANCELLED",
        "CANCELLATION_APPROVED",
        "CANCELLATION_REJECTED",
    }
    assert all(d["signature_valid"] and d["answered"] == 200 for d in deliveries)
    assert all(d["body"]["seller_id"] == "S-1" for d in deliveries)
