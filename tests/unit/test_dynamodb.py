"""orders.dynamodb: the typed JSON (what boto3's TypeSerializer and TypeDeserializer gave, for an order's values)
and the page tokens of every listing."""

from __future__ import annotations

import base64
import re
from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from orders.dynamodb import (
    TIMESTAMP,
    InvalidPageToken,
    decode_page_token,
    encode_page_token,
    from_attribute,
    to_attribute,
)

ORDER = {
    "order_id": "ord_" + "a" * 26,
    "seller_id": "S-1",
    "reference": "SHOP-1001 — ünïcode",
    "status": "PACKED",
    "items": [{"sku": "TSHIRT-RED-M", "quantity": 2}, {"sku": "MUG", "quantity": 10_000}],
    "recipient": {
        "name": "Ada",
        "address_line1": "1 Way",
        "address_line2": None,
        "city": "London",
        "postcode": "SW1",
        "country": "GB",
    },
    "tracking_number": None,
    "version": 7,
    "history": [{"at": "2026-11-26T10:00:00Z", "event": "ORDER_CREATED", "by": "seller:S-1", "to_status": "PENDING"}],
    "cancellation_request": {
        "status": "REQUESTED",
        "reason_code": None,
        "note": "",
        "requested_at": "2026-11-26T10:01:00Z",
    },
    "empty": {"list": [], "map": {}},
    "flag": True,
}


def _native(value):
    """What the store made of boto3's Decimals: whole numbers."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {name: _native(inner) for name, inner in value.items()}
    if isinstance(value, list):
        return [_native(inner) for inner in value]
    return value


@pytest.mark.parametrize("name", ORDER)
def test_each_value_is_written_as_boto3_wrote_it(name):
    assert to_attribute(ORDER[name]) == TypeSerializer().serialize(ORDER[name])


@pytest.mark.parametrize("name", ORDER)
def test_each_value_is_read_as_boto3_read_it(name):
    stored = TypeSerializer().serialize(ORDER[name])
    assert from_attribute(stored) == _native(TypeDeserializer().deserialize(stored)) == ORDER[name]


def test_what_an_order_never_holds_is_refused_not_guessed():
    with pytest.raises(TypeError):
        to_attribute(1.5)
    with pytest.raises(TypeError):
        from_attribute({"NS": ["1"]})
    with pytest.raises(TypeError):
        to_attribute(frozenset())  # DynamoDB has no empty set
    with pytest.raises(TypeError):
        to_attribute({1, 2})


# -- the one page-token codec (listings, the warehouse's queue, the feed) --------------------------

POSITION = {"order_id": re.compile(r"ord_[a-z2-7]{26}"), "created_at": TIMESTAMP}


def test_a_page_token_gives_back_the_position_it_was_made_from():
    position = {"order_id": "ord_" + "a" * 26, "created_at": "2026-12-01T10:00:00.000000Z"}
    token = encode_page_token(position)
    assert "=" not in token and token.isascii()
    assert decode_page_token(token, POSITION) == position


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!",
        "bm90IGpzb24",  # "not json"
        encode_page_token({"order_id": "ord_" + "a" * 26}),  # a field missing
        encode_page_token({"order_id": "ord_" + "a" * 26, "created_at": "2026", "extra": "x"}),  # one too many
        encode_page_token({"order_id": "", "created_at": "2026-12-01T10:00:00.000000Z"}),  # empty
        encode_page_token({"order_id": "ord_x", "created_at": "2026-12-01T10:00:00.000000Z"}),  # another shape
        base64.urlsafe_b64encode(b'{"order_id": 1, "created_at": []}').decode(),  # not text
        base64.urlsafe_b64encode(b"[1, 2]").decode(),  # not an object
        base64.urlsafe_b64encode(b"[" * 100_000).decode(),  # nested past the parser's limit
    ],
)
def test_a_token_this_api_did_not_issue_is_refused(token):
    with pytest.raises(InvalidPageToken):
        decode_page_token(token, POSITION)
