"""events/: the samples for `sam local invoke` are real events that the functions handle as intended."""

from __future__ import annotations

import json

from infra import template
from infra.generate import sample_events
from tests.support.events import LambdaContext

EVENTS = template.ROOT / "events"


def load(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


def invoke(function: str, event: dict) -> dict:
    module, attribute = template.handlers()[function].rsplit(".", 1)
    handler = getattr(__import__(module, fromlist=[attribute]), attribute)
    return handler(event, LambdaContext(function_name=function))


def test_every_function_has_a_sample_event():
    samples = {function for function, *_ in sample_events.api_samples().values()}
    scheduled = {function for function, _ in sample_events.schedule_samples().values()}
    queued = {function for function, _ in sample_events.queue_samples().values()}
    streamed = {s.function for s in template.stream_subscriptions()}
    assert samples | streamed | scheduled | queued == set(template.handlers())
    names = [*sample_events.api_samples(), *sample_events.schedule_samples(), *sample_events.queue_samples()]
    for name in [*names, "notifier_stream", "env.local"]:
        assert (EVENTS / f"{name}.json").is_file(), name


def test_the_samples_have_the_shape_the_local_gateway_builds_now():
    for name, sample in sample_events.api_samples().items():
        fresh, committed = sample_events.api_event(*sample), load(name)
        assert committed.keys() == fresh.keys(), name
        assert committed["requestContext"].keys() == fresh["requestContext"].keys(), name
        assert committed["requestContext"]["identity"].keys() == fresh["requestContext"]["identity"].keys(), name
        assert (committed["resource"], committed["path"], committed["body"]) == (
            fresh["resource"],
            fresh["path"],
            fresh["body"],
        ), name


def test_the_api_samples_walk_an_order_through_the_functions(aws):
    # Given a fresh table, the samples in the order a seller and the warehouse would send them
    walk = [
        ("create_order", 201, "PENDING"),
        ("get_order", 200, "PENDING"),
        ("list_orders", 200, None),
        ("warehouse_status", 200, "SENT_TO_WAREHOUSE"),
        ("cancel_order", 409, None),
        ("request_cancellation", 202, "SENT_TO_WAREHOUSE"),
        ("cancellation_requests", 200, None),
        ("warehouse_get_order", 200, "SENT_TO_WAREHOUSE"),
        ("warehouse_decision", 200, "SENT_TO_WAREHOUSE"),
    ]
    samples = sample_events.api_samples()
    for name, status, order_status in walk:
        answer = invoke(samples[name][0], load(name))
        body = json.loads(answer["body"])
        assert answer["statusCode"] == status, (name, body)
        if order_status:
            assert body["status"] == order_status, name
    assert body["cancellation"]["request"]["status"] == "REJECTED"


def test_the_schedule_sample_runs_a_sweep(aws):
    [(name, (function, _))] = sample_events.schedule_samples().items()
    assert invoke(function, load(name))["complete"] is True


def test_the_stream_sample_makes_the_notifier_tell_the_warehouse(notification_channels):
    import boto3

    answer = invoke("NotifierFunction", load("notifier_stream"))

    assert answer == {"batchItemFailures": []}
    messages = boto3.client("sqs").receive_message(QueueUrl=notification_channels.warehouse_queue_url)["Messages"]
    [body] = [json.loads(message["Body"]) for message in messages]
    assert (body["event_type"], body["order_id"]) == ("CANCELLATION_REQUESTED", sample_events.order_id())


def test_the_local_invoke_environment_names_every_function():
    assert load("env.local").keys() == template.handlers().keys()
