"""A seller repeating an edit (docs/api.md §8, §15; API.md: the commands are retry-safe, "a repeated call
answers UNCHANGED for what the first did"): the repeat of the edit that reached the limit is no new edit."""

from __future__ import annotations

import pytest

from orders.domain import MAX_EDITS, Action, Details, Seller
from orders.settings import dynamodb, settings
from orders.store import OrderStore, RefusalError
from tests.support.api import SellerPortal
from tests.support.threads import run_together

edit = SellerPortal("S-1").edit  # PATCH /orders/{order_id} as seller S-1


def seeded_order(reference: str, edits: int) -> dict:
    order = SellerPortal("S-1").create(reference).body
    dynamodb().update_item(
        TableName=settings().table_name,
        Key={"order_id": {"S": order["order_id"]}},
        UpdateExpression="SET edits = :edits",
        ExpressionAttributeValues={":edits": {"N": str(edits)}},
    )
    return order


RECIPIENT = {
    "name": "Grace Hopper",
    "address_line1": "1 Navy Way",
    "address_line2": None,
    "city": "Arlington",
    "postcode": "22202",
    "country": "US",
}
LAST_EDITS = {
    "courier": {"courier_service": "DPD_NEXT_DAY"},
    "every field": {
        "courier_service": "DPD_NEXT_DAY",
        "items": [{"sku": "MUG-BLUE", "quantity": 3}, {"sku": "TSHIRT-RED-M", "quantity": 1}],
        "recipient": RECIPIENT,
    },
}


@pytest.mark.parametrize("last_edit", LAST_EDITS.values(), ids=LAST_EDITS.keys())
def test_repeating_the_edit_that_reached_the_edit_limit_answers_unchanged_and_another_edit_is_409(aws, last_edit):
    # Given an order edited MAX_EDITS - 1 times (its counter seeded as the edits would have left it)
    order = seeded_order(f"REPEATED-LAST-EDIT-{len(last_edit)}", MAX_EDITS - 1)
    # When the seller's last allowed edit is sent, and sent again (its answer was lost)
    last = edit(order["order_id"], last_edit)
    again = edit(order["order_id"], last_edit)
    # Then the first is the edit, the repeat is "200, unchanged" as for any repeated command
    assert last.status == 200, last.body
    assert again.status == 200, again.body
    assert again.body["version"] == last.body["version"]
    # And an edit that would change something is refused by the bound
    other = edit(order["order_id"], {"courier_service": "ROYAL_MAIL_24"})
    assert (other.status, other.code) == (409, "EDIT_LIMIT"), other.body


@pytest.mark.parametrize(
    "first, second, answers",
    [
        ("DPD_NEXT_DAY", "DPD_NEXT_DAY", [(200, None), (200, None)]),  # the same last edit sent twice at once
        ("DPD_NEXT_DAY", "ROYAL_MAIL_24", [(200, None), (409, "EDIT_LIMIT")]),  # two last edits: one wins
    ],
)
def test_two_racing_last_edits_make_one_edit(aws, first, second, answers):
    """At the store, on threads: two handler invocations in one process share the API resolver's current
    event, which Lambda never does (an invocation per execution environment)."""
    # Given an order one edit short of its limit
    order = seeded_order(f"RACING-LAST-{first}-{second}", MAX_EDITS - 1)
    store, replies = OrderStore(), []

    def last_edit(courier: str) -> None:
        details = Details(changes={"courier_service": courier})
        try:
            store.apply(order["order_id"], Action.EDIT, Seller("S-1"), details)
        except RefusalError as refused:
            replies.append((409, refused.refusal.value))
        else:
            replies.append((200, None))

    # When two edits race for the last place
    run_together(*[lambda c=c: last_edit(c) for c in (first, second)])
    # Then exactly one edit is written, and the other is unchanged (the same) or refused by the bound
    assert sorted(replies) == answers
    final = SellerPortal("S-1").get(order["order_id"]).body
    assert final["version"] == order["version"] + 1
