"""/notification-channels: a seller's webhook endpoints (docs/api.md §7): create, list, delete, test."""

from __future__ import annotations

import json
import secrets
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response, content_types
from botocore.exceptions import BotoCoreError, ClientError

from orders import webhooks
from orders.api import ChannelId, FieldRefused, app, documented, handler, seller
from orders.channels import NotificationStore
from orders.models import Channel, ChannelBody, ChannelList, NewChannel, NotifiedEvent, TestSent
from orders.settings import settings, sns
from orders.store import StoreUnavailable, now

__all__ = ["handler"]

ALL_EVENTS: list[str] = list(NotifiedEvent.__args__)  # type: ignore[attr-defined]
_store = NotificationStore()


def shown(channel: dict) -> Channel:
    return Channel.model_construct(**{name: channel.get(name) for name in Channel.model_fields})


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
    event_types = list(dict.fromkeys(body.event_types or ALL_EVENTS))
    channel = _store.create_channel(caller.seller_id, body.url, event_types, body.description)
    created = NewChannel.model_construct(**{name: channel.get(name) for name in NewChannel.model_fields})
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
def delete_channel(channel_id: ChannelId):  # noqa: ANN201 - no body: Powertools would model a return annotation
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
    event = {
        "event_id": f"test_{secrets.token_hex(13)}",
        "event_type": "TEST",
        "occurred_at": now(),
        "seller_id": caller.seller_id,
        "channel_id": channel_id,
    }
    try:
        sns().publish(
            TopicArn=settings().topic_arn,
            Message=json.dumps(event, separators=(",", ":")),
            MessageAttributes={
                "event_type": {"DataType": "String", "StringValue": "TEST"},
                "seller_id": {"DataType": "String", "StringValue": caller.seller_id},
            },
        )
    except (BotoCoreError, ClientError) as error:
        raise StoreUnavailable(f"SNS: {error}") from error  # nothing was sent: 503, try again
    body = TestSent.model_construct(event_id=event["event_id"], channel_id=channel_id)
    return Response(status_code=HTTPStatus.ACCEPTED, content_type=content_types.APPLICATION_JSON, body=body)
