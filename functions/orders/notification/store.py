"""The notifications table (docs/api.md §7): each seller's webhook channels, their feed, and what
each delivery has reached, one partition per seller.

    pk SELLER#<seller_id>  sk CHANNELS                             how many channels the seller has
    pk SELLER#<seller_id>  sk CHANNEL#<channel_id>                 a channel (its URL, event types, secret)
    pk SELLER#<seller_id>  sk FEED#<occurred_at>#<event_id>        an event in the seller's feed, with
                                                                   `delivered`: the channels that took it,
                                                                   and the lease of the attempt delivering it

The rules are conditions: a sixth channel fails the counter's condition in the same transaction
as the channel's put; a channel that is not the caller's is not under the caller's key; an event
is recorded once (a put conditioned on its absence), and a retry reads what was delivered off the
refused put's old item, with no read of its own. The put also takes a lease on the event's
deliveries for the attempt that made it (`lease_holder`, `lease_until`): a copy of the event that
finds another attempt's live lease stands down; an attempt that finds none (or its own, or an
expired one) takes it with one conditional update; marking what was delivered lets it go.

A feed item expires after 90 days (the table's TTL), and the feed's key condition starts 90 days
back, so that an expired item is never served even before TTL removes it.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from orders.dynamodb import (
    Table,
    call,
    decode_page_token,
    encode_page_token,
    error_code,
    from_item,
    from_items,
    now,
    refused_item,
    timestamp,
    to_item,
)
from orders.notification.models import CHANNEL_ID_PATTERN
from orders.settings import settings
from orders.transactions import Cancelled, transact_write

MAX_CHANNELS = 5
FEED_DAYS = 90
_CHANNEL_ID = re.compile(CHANNEL_ID_PATTERN)
# What a feed page's token holds: the last event's sort key.
FEED_POSITION = {"sk": re.compile(r"FEED#[0-9T:.\-Z]+#ord_[a-z2-7]{26}:[0-9]+", re.ASCII)}
Channel = dict[str, Any]


class ChannelLimit(Exception):
    """The seller already has MAX_CHANNELS channels."""


class ChannelNotFound(Exception):
    def __init__(self, channel_id: str):
        super().__init__(channel_id)
        self.channel_id = channel_id


@dataclass(frozen=True)
class Lease:
    """An attempt's hold on one event's deliveries, so that two copies of the event at once make one POST
    a channel: `holder` is the attempt's SQS message id (a retry of that message holds it again), `until`
    when the attempt's invocation ends at the latest (Unix milliseconds); after that it has crashed."""

    holder: str
    until: int


@dataclass(frozen=True)
class Recorded:
    """An event in a seller's feed: whether this call put it there, the channels it has reached, and the
    holder of another attempt's live lease on it (None when there is none: the caller may deliver)."""

    new: bool
    delivered: frozenset[str]
    held_by: str | None


def new_channel_id() -> str:
    return "ch_" + base64.b32encode(secrets.token_bytes(20)).decode().lower()[:26]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _seller_key(seller_id: str) -> str:
    return f"SELLER#{seller_id}"


def _feed_key(occurred_at: str, event_id: str) -> str:
    return f"FEED#{occurred_at}#{event_id}"


def _feed_item_key(event: dict[str, Any]) -> dict[str, str]:
    return {"pk": _seller_key(event["seller_id"]), "sk": _feed_key(event["occurred_at"], event["event_id"])}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _recorded(item: dict[str, Any], lease: Lease, *, new: bool) -> Recorded:
    """What a feed item says: the channels delivered, and whether another attempt holds a live lease on it."""
    holder, until = item.get("lease_holder"), item.get("lease_until")
    live = holder is not None and holder != lease.holder and isinstance(until, int) and until >= _now_ms()
    return Recorded(new, frozenset(item.get("delivered") or ()), held_by=str(holder) if live else None)


class NotificationStore(Table):
    """The notifications table (settings' NOTIFICATIONS_TABLE_NAME)."""

    def _configured_name(self) -> str:
        return settings().notifications_table_name

    # -- channels --------------------------------------------------------------------------

    def create_channel(self, seller_id: str, url: str, event_types: list[str], description: str | None) -> Channel:
        """A new channel, with its secret; ChannelLimit when the seller has MAX_CHANNELS already."""
        channel = {
            "pk": _seller_key(seller_id),
            "sk": "",
            "channel_id": new_channel_id(),
            "seller_id": seller_id,
            "url": url,
            "event_types": event_types,
            "description": description,
            "created_at": now(),
            "secret": new_secret(),
        }
        channel["sk"] = f"CHANNEL#{channel['channel_id']}"
        try:
            transact_write(
                self.client,
                [
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": to_item({"pk": channel["pk"], "sk": "CHANNELS"}),
                            "UpdateExpression": "SET #count = if_not_exists(#count, :zero) + :one",
                            "ConditionExpression": "attribute_not_exists(#count) OR #count < :most",
                            "ExpressionAttributeNames": {"#count": "count"},
                            "ExpressionAttributeValues": to_item({":zero": 0, ":one": 1, ":most": MAX_CHANNELS}),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": to_item(channel),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ],
            )
        except Cancelled as cancelled:
            if cancelled.condition_failed(0):  # the counter's: the seller has MAX_CHANNELS already
                raise ChannelLimit from cancelled
            raise
        return channel

    def channels(self, seller_id: str) -> list[Channel]:
        """The seller's channels, oldest first (at most MAX_CHANNELS: one Query)."""
        page = call(
            self.client.query,
            TableName=self.table_name,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :channel)",
            ExpressionAttributeValues=to_item({":pk": _seller_key(seller_id), ":channel": "CHANNEL#"}),
            ConsistentRead=True,
        )
        return sorted(from_items(page["Items"]), key=lambda channel: channel["created_at"])

    def channel(self, seller_id: str, channel_id: str) -> Channel:
        if not _CHANNEL_ID.fullmatch(channel_id):
            raise ChannelNotFound(channel_id)
        found = call(
            self.client.get_item,
            TableName=self.table_name,
            Key=to_item({"pk": _seller_key(seller_id), "sk": f"CHANNEL#{channel_id}"}),
            ConsistentRead=True,
        ).get("Item")
        channel = from_item(found)
        if channel is None:
            raise ChannelNotFound(channel_id)
        return channel

    def delete_channel(self, seller_id: str, channel_id: str) -> None:
        """Remove the seller's channel (ChannelNotFound when the seller has none by that id)."""
        if not _CHANNEL_ID.fullmatch(channel_id):
            raise ChannelNotFound(channel_id)
        pk = _seller_key(seller_id)
        try:
            transact_write(
                self.client,
                [
                    {
                        "Delete": {
                            "TableName": self.table_name,
                            "Key": to_item({"pk": pk, "sk": f"CHANNEL#{channel_id}"}),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": to_item({"pk": pk, "sk": "CHANNELS"}),
                            "UpdateExpression": "SET #count = #count - :one",
                            "ConditionExpression": "#count > :zero",
                            "ExpressionAttributeNames": {"#count": "count"},
                            "ExpressionAttributeValues": to_item({":zero": 0, ":one": 1}),
                        }
                    },
                ],
            )
        except Cancelled as cancelled:
            if cancelled.condition_failed(0):  # the channel's: the seller has none by that id
                raise ChannelNotFound(channel_id) from cancelled
            raise

    # -- the feed and the deliveries ---------------------------------------------------------------

    def record(self, event: dict[str, Any], lease: Lease) -> Recorded:
        """Put the event in its seller's feed, once, holding `lease` on it; a refused put (the event was there)
        hands back what was delivered and who holds it, with no read of its own."""
        item = {
            "pk": _seller_key(event["seller_id"]),
            "sk": _feed_key(event["occurred_at"], event["event_id"]),
            "event_id": event["event_id"],
            "event": event,
            "expires_at": int(time.time()) + FEED_DAYS * 86400,
            "lease_holder": lease.holder,
            "lease_until": lease.until,
        }
        try:
            call(
                self.client.put_item,
                TableName=self.table_name,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return _recorded(refused_item(error) or {}, lease, new=False)
        return Recorded(True, frozenset(), held_by=None)

    def take_lease(self, event: dict[str, Any], lease: Lease) -> Recorded:
        """Hold the event with `lease`, unless another attempt's lease on it is live: one conditional update,
        which hands back what was delivered (the item as it now is, or as it stood when refused)."""
        try:
            taken = call(
                self.client.update_item,
                TableName=self.table_name,
                Key=to_item(_feed_item_key(event)),
                UpdateExpression="SET lease_holder = :holder, lease_until = :until",
                ConditionExpression="attribute_not_exists(lease_until) OR lease_until < :now OR lease_holder = :holder",
                ExpressionAttributeValues=to_item({":holder": lease.holder, ":until": lease.until, ":now": _now_ms()}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return _recorded(refused_item(error) or {}, lease, new=False)
        return _recorded(from_item(taken["Attributes"]) or {}, lease, new=False)

    def mark_delivered(self, event: dict[str, Any], channel_ids: set[str], lease: Lease) -> None:
        """Add channels to those the event has reached (a retry skips them), and let go of `lease`. If another
        attempt has taken the lease meanwhile (ours had expired), the channels are added and its lease is left."""
        key = to_item(_feed_item_key(event))
        channels = to_item({":channels": frozenset(channel_ids), ":holder": lease.holder})
        try:
            call(
                self.client.update_item,
                TableName=self.table_name,
                Key=key,
                UpdateExpression="ADD delivered :channels REMOVE lease_holder, lease_until",
                ConditionExpression="lease_holder = :holder",
                ExpressionAttributeValues=channels,
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            call(
                self.client.update_item,
                TableName=self.table_name,
                Key=key,
                UpdateExpression="ADD delivered :channels",
                ExpressionAttributeValues=to_item({":channels": frozenset(channel_ids)}),
            )

    def feed(self, seller_id: str, *, limit: int, page_token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the seller's events, newest first, from the last 90 days: one Query."""
        oldest = "FEED#" + timestamp(datetime.now(UTC) - timedelta(days=FEED_DAYS))
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :oldest AND :newest",
            "ExpressionAttributeValues": to_item(
                {":pk": _seller_key(seller_id), ":oldest": oldest, ":newest": "FEED$"}
            ),
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if page_token:
            position = decode_page_token(page_token, FEED_POSITION)["sk"]
            if position < oldest:
                return [], None  # a token older than the feed keeps: nothing after it is kept either
            query["ExclusiveStartKey"] = to_item({"pk": _seller_key(seller_id), "sk": position})
        page = call(self.client.query, **query)
        items = from_items(page["Items"])
        shown = items[:limit]
        more = len(items) > limit or "LastEvaluatedKey" in page
        token = encode_page_token({"sk": shown[-1]["sk"]}) if more and shown else None
        return [item["event"] for item in shown], token
