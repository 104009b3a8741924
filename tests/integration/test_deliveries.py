"""Channels, the feed and deliveries (docs/api.md §7) against moto, with a real receiver on localhost."""

from __future__ import annotations

import json
import threading
import time
import uuid
from unittest import mock

import boto3
import pytest

from infra.local.lambda_context import LambdaContext
from infra.local.queue_poller import QueuePoller
from infra.local.webhook_receiver import Receiver
from infra.template import resources
from orders import settings
from orders.handlers import deliver_notifications
from orders.notification import webhooks
from orders.notification.delivery import deliver
from orders.notification.store import MAX_CHANNELS, ChannelLimit, ChannelNotFound, Lease, NotificationStore
from tests.support.notifications import _attributes
from tests.support.threads import run_together

EVENT_TYPES = ["ORDER_CANCELLED", "CANCELLATION_REQUESTED", "CANCELLATION_APPROVED", "CANCELLATION_REJECTED"]


@pytest.fixture
def local_webhooks(monkeypatch):
    monkeypatch.setenv("ALLOW_LOCAL_WEBHOOKS", "true")
    settings.reset()
    yield
    settings.reset()


@pytest.fixture
def store(aws, local_webhooks):
    return NotificationStore()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def pool():
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as executor:
        yield executor


def lease(holder: str = "message-1", seconds: float = 60) -> Lease:
    """An attempt's hold on an event: the SQS message's id, and when its invocation ends."""
    return Lease(holder, int((time.time() + seconds) * 1000))


def event(seller: str = "S-1", event_type: str = "CANCELLATION_REJECTED", version: int = 4) -> dict:
    order_id = "ord_" + uuid.uuid4().hex[:26].translate(str.maketrans("0189", "abcd"))
    return {
        "event_id": f"{order_id}:{version}",
        "event_type": event_type,
        "occurred_at": f"2026-12-01T10:00:0{version}.000000Z",
        "order_id": order_id,
        "seller_id": seller,
        "reference": "SHOP-1",
        "order_version": version,
        "status": "PACKED",
        "cancellation": {"option": "NONE", "unavailable_reason": "CANCELLATION_REJECTED", "request": None},
    }


def channel(store: NotificationStore, receiver: Receiver, seller: str, path: str, types=None) -> dict:
    made = store.create_channel(seller, receiver.url(path), types or EVENT_TYPES, None)
    receiver.secrets[path] = made["secret"]
    return made


# -- channels -----------------------------------------------------------------------------------


def test_a_seller_has_at_most_five_channels_even_when_creating_them_at_once(store):
    made, refused = [], []

    def create(number: int) -> None:
        try:
            made.append(store.create_channel("S-1", f"http://localhost:9/{number}", EVENT_TYPES, None))
        except ChannelLimit:
            refused.append(number)

    run_together(*[lambda n=n: create(n) for n in range(12)])

    assert len(made) == MAX_CHANNELS and len(refused) == 12 - MAX_CHANNELS
    assert len(store.channels("S-1")) == MAX_CHANNELS
    store.delete_channel("S-1", made[0]["channel_id"])  # a deletion frees a place
    store.create_channel("S-1", "http://localhost:9/again", EVENT_TYPES, None)
    with pytest.raises(ChannelLimit):
        store.create_channel("S-1", "http://localhost:9/one-too-many", EVENT_TYPES, None)


def test_another_sellers_channel_does_not_exist_for_a_seller(store):
    mine = store.create_channel("S-1", "http://localhost:9/a", EVENT_TYPES, "mine")
    assert store.channels("S-2") == []
    with pytest.raises(ChannelNotFound):
        store.delete_channel("S-2", mine["channel_id"])
    with pytest.raises(ChannelNotFound):
        store.channel("S-2", mine["channel_id"])
    assert [c["channel_id"] for c in store.channels("S-1")] == [mine["channel_id"]]
    store.delete_channel("S-1", mine["channel_id"])
    with pytest.raises(ChannelNotFound):
        store.delete_channel("S-1", mine["channel_id"])  # twice: the second finds nothing, the counter stays right
    assert store.channels("S-1") == []


# -- delivering one event -------------------------------------------------------------------------


def test_an_event_goes_signed_to_each_matching_channel_of_its_seller_only(store, receiver, pool):
    channel(store, receiver, "S-1", "/a")
    channel(store, receiver, "S-1", "/rejections-only", ["CANCELLATION_REJECTED"])
    channel(store, receiver, "S-1", "/approvals-only", ["CANCELLATION_APPROVED"])
    channel(store, receiver, "S-2", "/other-seller")

    told = event("S-1", "CANCELLATION_REJECTED")
    outcome = deliver(told, store, allow_local=True, pool=pool, lease=lease())

    assert sorted(d.path for d in receiver.deliveries) == ["/a", "/rejections-only"]
    for delivery in receiver.deliveries:
        assert delivery.signature_valid and delivery.body == told
        assert (delivery.event_id, delivery.event_type) == (told["event_id"], "CANCELLATION_REJECTED")
    assert outcome.done and len(outcome.delivered) == 2
    assert store.feed("S-1", limit=10, page_token=None) == ([told], None)
    assert store.feed("S-2", limit=10, page_token=None) == ([], None)


def test_a_retry_sends_only_to_the_channels_that_did_not_answer_2xx(store, receiver, pool):
    receiver.script = lambda path, number: 500 if path == "/flaky" and number <= 2 else 200
    channel(store, receiver, "S-1", "/steady")
    flaky = channel(store, receiver, "S-1", "/flaky")["channel_id"]
    told = event()

    tries = [deliver(told, store, allow_local=True, pool=pool, lease=lease()) for _ in range(4)]  # one message's

    assert [list(t.failed) for t in tries[:2]] == [[flaky], [flaky]]
    assert tries[2].done and tries[3].done and tries[3].delivered == []
    assert len(receiver.of("/steady")) == 1  # once per 2xx
    assert [d.answered for d in receiver.of("/flaky")] == [500, 500, 200]
    assert store.feed("S-1", limit=10, page_token=None)[0] == [told]  # recorded once


def test_a_host_public_at_registration_and_private_at_delivery_is_not_called(store, pool, monkeypatch):
    calls = []
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.215.14"])
    store.create_channel("S-1", "https://hooks.example.com/orders", EVENT_TYPES, None)
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["169.254.169.254"])

    outcome = deliver(event(), store, allow_local=False, pool=pool, lease=lease(), post=lambda *a: calls.append(a))

    assert calls == []
    [(_, why)] = outcome.failed.items()
    assert "169.254.169.254" in why and "not called" in why


def test_a_test_event_goes_to_its_channel_only_and_not_into_the_feed(store, receiver, pool):
    target = channel(store, receiver, "S-1", "/target", ["CANCELLATION_APPROVED"])
    channel(store, receiver, "S-1", "/other")
    test = {
        "event_id": "test_1",
        "event_type": "TEST",
        "occurred_at": "2026-12-01T10:00:00Z",
        "seller_id": "S-1",
        "channel_id": target["channel_id"],
    }
    assert deliver(test, store, allow_local=True, pool=pool, lease=lease()).done
    assert [d.path for d in receiver.deliveries] == ["/target"]
    assert store.feed("S-1", limit=10, page_token=None) == ([], None)


# -- copies of one event (SNS delivers at least once) ---------------------------------------------------


def test_a_copy_arriving_while_another_delivers_the_event_stands_down_and_each_channel_gets_one_post(
    store, receiver, pool
):
    channel(store, receiver, "S-1", "/a")
    channel(store, receiver, "S-1", "/b")
    told = event()
    gate = threading.Event()

    def held_post(*args):  # the first copy's POSTs wait until the second copy has made its try
        assert gate.wait(10)
        return webhooks.post(*args)

    first: list = []
    holder = threading.Thread(
        target=lambda: first.append(
            deliver(told, store, allow_local=True, pool=pool, lease=lease("m-1"), post=held_post)
        )
    )
    holder.start()
    wait_until(lambda: store.feed("S-1", limit=1, page_token=None)[0])  # the first copy has recorded it
    second = deliver(told, store, allow_local=True, pool=pool, lease=lease("m-2"))
    gate.set()
    holder.join(10)

    assert second.done and second.stood_down_for == "m-1" and second.delivered == []
    assert first[0].done and sorted(first[0].delivered) == sorted(c["channel_id"] for c in store.channels("S-1"))
    assert sorted(d.path for d in receiver.deliveries) == ["/a", "/b"]  # one POST a channel


def test_two_copies_in_one_batch_make_one_post_per_channel(delivery_queues, receiver):
    url, _, _ = delivery_queues
    store = NotificationStore()
    for path in ("/a", "/b", "/c"):
        channel(store, receiver, "S-1", path)
    receiver.script = lambda path, number: time.sleep(0.3) or 200  # long enough for the copies to overlap
    told = event()
    body = json.dumps(told)
    record = {
        "receiptHandle": "r",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {"seller_id": {"stringValue": "S-1", "dataType": "String"}},
        "eventSource": "aws:sqs",
    }
    batch = {"Records": [{**record, "messageId": "copy-1"}, {**record, "messageId": "copy-2"}]}

    result = deliver_notifications.handler(batch, LambdaContext(function_name="DeliveryFunction"))

    assert result == {"batchItemFailures": []}  # both done: one delivered, the other stood down
    assert sorted(d.path for d in receiver.deliveries) == ["/a", "/b", "/c"]


def test_a_copy_after_a_crashed_holders_lease_has_expired_delivers(store, receiver, pool):
    channel(store, receiver, "S-1", "/a")
    told = event()
    assert store.record(told, lease("crashed", seconds=-1)).new  # recorded, then its invocation died
    outcome = deliver(told, store, allow_local=True, pool=pool, lease=lease("copy"))
    assert outcome.done and outcome.stood_down_for is None and len(outcome.delivered) == 1
    assert [d.path for d in receiver.deliveries] == ["/a"]
    # and the crashed holder's own retry, later, finds nothing owed
    assert deliver(told, store, allow_local=True, pool=pool, lease=lease("crashed")).delivered == []
    assert len(receiver.deliveries) == 1


def test_while_a_crashed_holders_lease_is_live_a_copy_stands_down_and_the_holders_own_retry_delivers(
    store, receiver, pool
):
    channel(store, receiver, "S-1", "/a")
    told = event()
    store.record(told, lease("crashed", seconds=60))
    copy = deliver(told, store, allow_local=True, pool=pool, lease=lease("copy"))
    assert copy.done and copy.stood_down_for == "crashed" and receiver.deliveries == []
    retry = deliver(told, store, allow_local=True, pool=pool, lease=lease("crashed"))  # the same message, again
    assert retry.done and len(retry.delivered) == 1 and len(receiver.deliveries) == 1


def test_the_requests_of_a_delivery_its_copies_and_its_retries(store, receiver, pool, dynamodb_calls):
    receiver.script = lambda path, number: 500 if path == "/flaky" and number == 1 else 200
    channel(store, receiver, "S-1", "/steady")
    channel(store, receiver, "S-1", "/flaky")
    told, other = event(), event()

    def requests(*args, **kwargs) -> list[str]:
        dynamodb_calls.clear()
        deliver(*args, allow_local=True, pool=pool, **kwargs)
        return sorted(dynamodb_calls.elements())

    # A first try where a channel fails: the feed's put (taking the lease), the channels, and the mark of the one
    # that answered 2xx, letting the lease go (had none answered, no mark: the lease stays with the message)
    assert requests(told, store, lease=lease("m-1")) == ["PutItem", "Query", "UpdateItem"]
    # The first try of an event every channel takes: the same three, the mark releasing the lease
    assert requests(other, store, lease=lease("other")) == ["PutItem", "Query", "UpdateItem"]
    # A copy while the lease is live: the refused put says who holds it, and nothing more
    live = event()
    store.record(live, lease("holder"))
    assert requests(live, store, lease=lease("copy")) == ["PutItem"]
    # The retry of the failed channel: the put, the channels, taking the lease again, the mark
    assert requests(told, store, lease=lease("m-1")) == ["PutItem", "Query", "UpdateItem", "UpdateItem"]
    # A copy after everything was delivered: the put, the channels, and nothing owed
    assert requests(told, store, lease=lease("late-copy")) == ["PutItem", "Query"]


def wait_until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_feed_pages_newest_first_in_one_query_each(store, aws):
    told = [event("S-1", version=v) for v in range(1, 8)]
    for one in told:
        store.record(one, lease("first"))
        store.record(one, lease("copy"))  # a redelivery: once in the feed
    pages, token = [], None
    while True:
        found, token = store.feed("S-1", limit=3, page_token=token)
        pages.append(found)
        if token is None:
            break
    assert [e["event_id"] for page in pages for e in page] == [e["event_id"] for e in reversed(told)]
    assert [len(page) for page in pages] == [3, 3, 1]


# -- the delivery function off its queue -----------------------------------------------------------


@pytest.fixture
def delivery_queues(aws, local_webhooks, monkeypatch):
    """The template's delivery queue and dead-letter queue, and the function's settings pointing at them."""
    sqs = boto3.client("sqs")
    queues = resources("AWS::SQS::Queue")
    dead = sqs.create_queue(QueueName="DeliveryDeadLetterQueue")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    properties = dict(queues["DeliveryQueue"]["Properties"])
    properties["RedrivePolicy"] = {**properties["RedrivePolicy"], "deadLetterTargetArn": dead_arn}
    url = sqs.create_queue(QueueName="DeliveryQueue", Attributes=_attributes(properties))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    monkeypatch.setenv("DELIVERY_QUEUE_URL", url)
    monkeypatch.setenv("DELIVERY_DEAD_LETTER_QUEUE_URL", dead)
    monkeypatch.setenv("DELIVERY_RETRY_DELAYS_SECONDS", "0,0")
    settings.reset()
    poller = QueuePoller(
        sqs_client=sqs,
        queue_url=url,
        queue_arn=arn,
        region="eu-west-2",
        handler=lambda batch, _: deliver_notifications.handler(batch, LambdaContext(function_name="DeliveryFunction")),
    )
    return url, dead, poller


def send(url: str, body: dict) -> None:
    boto3.client("sqs").send_message(
        QueueUrl=url,
        MessageBody=json.dumps(body),
        MessageAttributes={"seller_id": {"DataType": "String", "StringValue": body["seller_id"]}},
    )


def drain(poller: QueuePoller, rounds: int = 8) -> None:
    for _ in range(rounds):
        poller.poll_once(wait_seconds=0)


def test_a_channel_failing_for_ever_ends_in_the_dead_letter_queue_and_the_others_still_receive(
    delivery_queues, receiver
):
    url, dead, poller = delivery_queues
    receiver.script = lambda path, number: 503 if path == "/broken" else 200
    store = NotificationStore()
    channel(store, receiver, "S-1", "/fine")
    channel(store, receiver, "S-1", "/broken")
    channel(store, receiver, "S-2", "/other-seller")
    first, second = event("S-1"), event("S-2")
    send(url, first)
    send(url, second)

    drain(poller)

    assert len(receiver.of("/fine")) == 1 and len(receiver.of("/other-seller")) == 1
    assert len(receiver.of("/broken")) == 3  # the first try and the two retries of the schedule
    sqs = boto3.client("sqs")
    [given_up] = sqs.receive_message(QueueUrl=dead, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(given_up["Body"])["event_id"] == first["event_id"]
    assert "still failing after 3 tries" in given_up["MessageAttributes"]["reason"]["StringValue"]
    assert sqs.receive_message(QueueUrl=url).get("Messages") is None  # nothing left behind


def test_a_failed_delivery_waits_the_next_delay_before_its_retry_delayed_not_in_flight(
    delivery_queues, receiver, monkeypatch
):
    """SQS holds at most 120,000 messages in flight on a queue, and past that nobody receives from it: a
    retry waits as a delayed copy, so a seller whose webhooks are down for a day fills nothing."""
    url, _, poller = delivery_queues
    monkeypatch.setenv("DELIVERY_RETRY_DELAYS_SECONDS", "30,60")
    settings.reset()
    receiver.script = lambda path, number: 500
    channel(NotificationStore(), receiver, "S-1", "/down")
    send(url, event())

    poller.poll_once(wait_seconds=0)
    poller.poll_once(wait_seconds=0)

    assert len(receiver.of("/down")) == 1  # the retry is 30 s away, not at once
    names = ["ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible"]
    attributes = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    assert attributes == {"ApproximateNumberOfMessagesDelayed": "1", "ApproximateNumberOfMessagesNotVisible": "0"}


def test_a_retry_longer_than_sqs_longest_delay_is_sent_on_until_it_is_due(delivery_queues, receiver, monkeypatch):
    """SQS delays a message 15 minutes at most: a copy received before it is due goes on again, delayed,
    without a try; when due it is the next try, and holds the event as the first message did."""
    url, dead, poller = delivery_queues
    monkeypatch.setenv("DELIVERY_RETRY_DELAYS_SECONDS", "3600")
    settings.reset()
    receiver.script = lambda path, number: 500 if number == 1 else 200
    channel(NotificationStore(), receiver, "S-1", "/flaky")
    told = event()
    send(url, told)
    sqs = boto3.client("sqs")
    sent: list[dict] = []
    real_send = deliver_notifications.sqs().send_message

    def recorded(**kwargs):
        sent.append(kwargs)
        return real_send(**{**kwargs, "DelaySeconds": 0})  # no waiting in a test: due-ness is the attribute's

    clock = [time.time()]
    with (
        mock.patch.object(deliver_notifications.sqs(), "send_message", side_effect=recorded),
        mock.patch.object(deliver_notifications.time, "time", lambda: clock[0]),
    ):
        poller.poll_once(wait_seconds=0)  # the first try fails: a copy due in an hour, delayed 15 minutes
        poller.poll_once(wait_seconds=0)  # received early: sent on, no try
        clock[0] += 3600
        poller.poll_once(wait_seconds=0)  # due: the second try

    assert [kwargs["DelaySeconds"] for kwargs in sent] == [900, 900]
    attributes = [
        {name: value["StringValue"] for name, value in kwargs["MessageAttributes"].items()} for kwargs in sent
    ]
    assert [(a["attempt"], a["seller_id"]) for a in attributes] == [("2", "S-1"), ("2", "S-1")]
    assert (
        attributes[0]["not_before"] == attributes[1]["not_before"]
        and attributes[0]["holder"] == attributes[1]["holder"]
    )
    assert len(receiver.of("/flaky")) == 2  # two tries, not three: the early copy made none
    assert sqs.receive_message(QueueUrl=url).get("Messages") is None
    assert sqs.receive_message(QueueUrl=dead).get("Messages") is None


def test_a_message_that_is_no_event_goes_to_the_dead_letter_queue_at_once(delivery_queues):
    url, dead, poller = delivery_queues
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="not json")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({**event(), "event_type": "ORDER_EATEN"}))
    spoofed = event("S-1")
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps(spoofed),
        MessageAttributes={"seller_id": {"DataType": "String", "StringValue": "S-2"}},
    )
    drain(poller, 2)
    reasons = [
        m["MessageAttributes"]["reason"]["StringValue"]
        for m in sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10, MessageAttributeNames=["All"])["Messages"]
    ]
    assert len(reasons) == 3 and all(reason.startswith("unreadable") for reason in reasons)


def test_the_local_event_source_runs_several_batches_at_once_as_lambda_does(aws):
    """A batch held up (a slow receiver's) holds up none of the batches behind it, up to `concurrency` at once."""
    from infra.local.pace import Pace

    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="batches")["QueueUrl"]
    for number in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(number))
    held, release = [], threading.Event()

    def handler(batch, _):
        held.append(batch["Records"][0]["body"])
        assert release.wait(10)
        return {"batchItemFailures": []}

    poller = QueuePoller(
        sqs_client=sqs,
        queue_url=url,
        queue_arn="arn:aws:sqs:eu-west-2:123456789012:batches",
        region="eu-west-2",
        handler=handler,
        batch_size=1,
        pace=Pace(busy=0.01, idle=0.05),
        concurrency=3,
    )
    stop = threading.Event()
    running = threading.Thread(target=poller.run, args=(stop,))
    running.start()
    try:
        wait_until(lambda: len(held) == 3)  # three invocations in flight, none of them finished
        release.set()
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        wait_until(
            lambda: set(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"].values()) == {"0"}
        )
    finally:
        release.set()
        stop.set()
        running.join(5)
    assert sorted(held) == ["0", "1", "2"]
