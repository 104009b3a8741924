"""/notification-channels: a seller's webhook endpoints (docs/api.md §7): create, list, delete, test."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from orders.api import FieldRefused, app, documented, handler, seller
from orders.domain import NOTIFIED_EVENT_NAMES
from orders.notification import events, webhooks
from orders.notification.http import ChannelId
from orders.notification.models import Channel, ChannelBody, ChannelList, NewChannel, TestSent
from orders.notification.store import NotificationStore
from orders.settings import settings, sns

__all__ = ["handler"]

_store = NotificationStore()


def shown(channel: dict[str, Any]) -> Channel:
    fields: dict[str, Any] = {name: channel.get(name) for name in Channel.model_fields}
    return Channel.model_construct(**fields)


@app.post(
    "/notification-channels",
    summary="Register a webhook endpoint (at most 5 a seller)",
    responses=documented(
        HTTPStatus.CREATED, "The channel, with its secret (shown this once)", HTTPStatus.CONFLICT, body=NewChannel
    ),
    tags=["notifications"],
)
def create_channel(body: ChannelBody) -> Response[NewChannel]:
    caller = seller()
    try:
        webhooks.check(body.url, allow_local=settings().allow_local_webhooks)
    except webhooks.UnsafeUrl as unsafe:
        raise FieldRefused("url", f"Not a URL this service will call: {unsafe}.") from unsafe
    event_types = list(dict.fromkeys(body.event_types or NOTIFIED_EVENT_NAMES))
    channel = _store.create_channel(caller.seller_id, body.url, event_types, body.description)
    fields: dict[str, Any] = {name: channel.get(name) for name in NewChannel.model_fields}
    created = NewChannel.model_construct(**fields)
    return Response(status_code=HTTPStatus.CREATED, content_type=content_types.APPLICATION_JSON, body=created)


@app.get(
    "/notification-channels",
    summary="The seller's webhook endpoints (no secrets)",
    responses=documented(HTTPStatus.OK, "The channels, oldest first", body=ChannelList),
    tags=["notifications"],
)
def list_channels() -> Response[ChannelList]:
    found = _store.channels(seller().seller_id)
    body = ChannelList.model_construct(channels=[shown(channel) for channel in found])
    return Response(status_code=HTTPStatus.OK, content_type=content_types.APPLICATION_JSON, body=body)


@app.delete(
    "/notification-channels/<channel_id>",
    summary="Remove a webhook endpoint",
    responses={
        **documented(HTTPStatus.NO_CONTENT, "Removed", HTTPStatus.NOT_FOUND),
        HTTPStatus.NO_CONTENT: {"description": "Removed"},
    },
    tags=["notifications"],
)
def delete_channel(channel_id: ChannelId):  # type: ignore[no-untyped-def]  # no body: Powertools would model a return annotation
    _store.delete_channel(seller().seller_id, channel_id)
    return Response(status_code=HTTPStatus.NO_CONTENT, body="")


@app.post(
    "/notification-channels/<channel_id>/test",
    summary="Send a TEST event to one channel, through the same path as every event",
    responses=documented(
        HTTPStatus.ACCEPTED, "Sent to the topic; the channel receives it shortly", HTTPStatus.NOT_FOUND, body=TestSent
    ),
    tags=["notifications"],
)
def test_channel(channel_id: ChannelId) -> Response[TestSent]:
    caller = seller()
    _store.channel(caller.seller_id, channel_id)  # 404 unless it is the caller's
    event = events.test_event(caller.seller_id, channel_id)
    events.publish(sns(), settings().topic_arn, event)  # PublishFailed: 503, nothing was sent
    body = TestSent.model_construct(event_id=event.event_id, channel_id=channel_id)
    return Response(status_code=HTTPStatus.ACCEPTED, content_type=content_types.APPLICATION_JSON, body=body)
