"""The notification room's HTTP bodies as pydantic models: the event (docs/api.md §4) as the topic, a
webhook and the feed carry it, the feed's page, and the webhook channels.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from orders.domain import Event, NotifiedEvent, OrderStatus
from orders.models import Body, Cancellation, Model, Text

CHANNEL_ID_PATTERN = r"^ch_[a-z2-7]{26}$"


class Notification(Model):
    """One event of docs/api.md §4: the SNS message body, a webhook's body, an entry of the feed."""

    event_id: str = Field(description="<order_id>:<order_version>: the same for every copy of one change")
    event_type: Event
    occurred_at: str
    order_id: str
    seller_id: str
    reference: str
    order_version: int
    status: OrderStatus
    cancellation: Cancellation


class NotificationPage(Model):
    notifications: list[Notification] = Field(description="The seller's events, newest first, from the last 90 days")
    next_token: str | None = Field(description="Pass as ?next_token= for the next page; null on the last")


class ChannelBody(Body):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)] = Field(
        description="https:// only, no user info, a host with public addresses only (checked again at each delivery)"
    )
    event_types: Annotated[list[NotifiedEvent], Field(min_length=1, max_length=5)] | None = Field(
        None, description="The §4 events to send; all of them when left out"
    )
    description: Text | None = None


class Channel(Model):
    channel_id: str
    url: str
    event_types: list[NotifiedEvent]
    description: str | None
    created_at: str


class NewChannel(Channel):
    secret: str = Field(description="Signs every delivery (X-Signature); shown in this answer only")


class ChannelList(Model):
    channels: list[Channel]


class TestSent(Model):
    event_id: str = Field(description="The TEST event's id, as X-Event-Id will carry it")
    channel_id: str
