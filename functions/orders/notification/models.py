"""The notification room's HTTP bodies as pydantic models: the event (docs/api.md §4) as the topic, a
webhook and the feed carry it, the feed's page, and the webhook channels.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from orders.domain import NOTIFIED_EVENT_NAMES, Event, NotifiedEvent, OrderStatus
from orders.models import Backorder, Body, Cancellation, CourierStatusView, Model, Text

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
    # docs/api.md §12: only a COURIER_STATUS_CHANGED event has it; the others leave it out rather than say null.
    courier_status: CourierStatusView | SkipJsonSchema[None] = Field(
        None,
        description="COURIER_STATUS_CHANGED: the courier's new status",
        exclude_if=lambda courier_status: courier_status is None,
    )
    # docs/api.md §11: only on the events they belong to, absent from the others.
    backorder: Backorder | SkipJsonSchema[None] = Field(
        None, description="ORDER_BACKORDERED: the lines short of stock", exclude_if=lambda value: value is None
    )
    in_stock_order_id: str | SkipJsonSchema[None] = Field(
        None,
        description="ORDER_SPLIT: the new order split off this one (order_id), holding what ships now",
        exclude_if=lambda value: value is None,
    )


class NotificationPage(Model):
    notifications: list[Notification] = Field(description="The seller's events, newest first, from the last 90 days")
    next_token: str | None = Field(description="Pass as ?next_token= for the next page; null on the last")


# A channel's URL as the deployed API takes it, for openapi.json: `https://`, a host (a name of RFC 3986's
# unreserved and sub-delimiter characters, or an IPv6 literal in brackets), no user info, a port of 0 to
# 65535, then a path and query of printable ASCII without `#` (no fragment). The server checks it with
# orders.notification.webhooks.check, which also allows the local stack's http://localhost and
# http://127.0.0.1, so the body's model does not hold the pattern itself.
_H16 = "[0-9A-Fa-f]{1,4}"
_IPV6 = "|".join(  # RFC 3986's IPv6address, but the forms ending in a dotted IPv4 address
    [
        f"(?:{_H16}:){{7}}{_H16}",
        f"(?:{_H16}:){{1,7}}:",
        f"(?:{_H16}:){{1,6}}:{_H16}",
        *(f"(?:{_H16}:){{1,{5 - n}}}(?::{_H16}){{1,{n + 2}}}" for n in range(5)),
        f":(?:(?::{_H16}){{1,7}}|:)",
    ]
)
_REG_NAME = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+"
_PORT = "(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|0*[1-9][0-9]{0,3})"
CHANNEL_URL_PATTERN = rf'^https://(?:{_REG_NAME}|\[(?:{_IPV6})\])(?::{_PORT}?)?(?:[/?][!-"$-~]*)?$'


class ChannelBody(Body):
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)] = Field(
        description="Where to POST each event: https:// only, at most 2,048 ASCII characters, no spaces, no user info "
        "(user:password@), no fragment, and a host whose every address is globally reachable (checked again at "
        "each delivery; a 400 says which rule refused it). The local stack (make run) also takes "
        "http://localhost and http://127.0.0.1, which the pattern does not show.",
        json_schema_extra={"format": "uri", "pattern": CHANNEL_URL_PATTERN},
    )
    event_types: Annotated[list[NotifiedEvent], Field(min_length=1, max_length=len(NOTIFIED_EVENT_NAMES))] | None = (
        Field(None, description="The §4 events to send; all of them when left out")
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
