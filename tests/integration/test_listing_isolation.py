"""A seller's listings through GET /orders (docs/api.md §14): whatever the seller ids hold, whatever the
`?status=` and page token sent, a seller sees their own orders only."""

from __future__ import annotations

import base64
import json

import pytest

from tests.support.api import SellerPortal

# Ids chosen so that a key built as "<seller>#<status>" (or without the length) would be shared.
CRAFTED = ["S-1", "S-1#PENDING", "S-1#", "3:S-1", "1:S", "S", "11:S-1#PENDING", "S-1\u00e9", "S-1 ", "🙂"]


@pytest.fixture
def sellers(aws) -> dict[str, tuple[SellerPortal, str]]:
    made = {}
    for seller_id in CRAFTED:
        portal = SellerPortal(seller_id)
        reply = portal.create("SHOP-1")
        assert reply.status == 201, reply.body
        made[seller_id] = (portal, reply.body["order_id"])
    return made


def listed(portal: SellerPortal, **query: str) -> tuple[int, list[str], str | None]:
    reply = portal.list(**query)
    orders = reply.body.get("orders", []) if isinstance(reply.body, dict) else []
    return reply.status, [order["order_id"] for order in orders], (reply.body or {}).get("next_token")


def test_sellers_with_ids_built_to_collide_each_list_only_their_own_orders(sellers):
    for seller_id, (portal, order_id) in sellers.items():
        assert listed(portal)[:2] == (200, [order_id]), seller_id
        assert listed(portal, status="PENDING")[:2] == (200, [order_id]), seller_id


@pytest.mark.parametrize(
    "status", ["PENDING#", "PENDING ", "pending", "S-1#PENDING", "#PENDING", "PENDING\u0000", "*", "", "PEND%"]
)
def test_a_status_that_is_none_of_ours_is_400_or_lists_nothing_of_another_seller(sellers, status):
    portal, _ = sellers["S-1"]
    code, orders, _ = listed(portal, status=status)
    others = {order_id for seller_id, (_, order_id) in sellers.items() if seller_id != "S-1"}
    assert code in (200, 400) and not others & set(orders)


def test_a_page_token_from_another_seller_or_the_other_listing_never_shows_another_sellers_orders(sellers):
    # Given two pages' worth of orders for "S-1#PENDING" and a token into them
    owner, _ = sellers["S-1#PENDING"]
    for number in range(3):
        owner.create(f"SHOP-MORE-{number}")
    _, _, token = listed(owner, limit="2")
    _, _, status_token = listed(owner, limit="2", status="PENDING")
    assert token and status_token
    # When another seller sends those tokens, with and without a status, and tampered with
    intruder, own_order = sellers["S-1"]
    position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    tampered = base64.urlsafe_b64encode(json.dumps({**position, "seller_id": "S-1#PENDING"}).encode()).decode()
    for sent in (token, status_token, tampered):
        for query in ({}, {"status": "PENDING"}):
            code, orders, _ = listed(intruder, next_token=sent, **query)
            # Then they see their own orders or nothing, or are told the token is bad: never the owner's
            assert code in (200, 400) and set(orders) <= {own_order}, (sent, query, orders)
