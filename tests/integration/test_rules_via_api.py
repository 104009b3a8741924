"""Every cell of docs/api.md §2 through the real functions: REST events in, HTTP answers out, moto behind,
and the DynamoDB requests each command makes, counted at the functions' own client (one; two for a despatch
that meets a pending request, docs/api.md §10; a split reads the order it splits, then writes both orders in
one transaction: two, and one when the read already refuses). The one walk of the whole table below the HTTP of the
local stack: the store's own answers are the functions'."""

import pytest

from tests.support import commands
from tests.support.api import SellerPortal
from tests.support.commands import SELLER_COMMANDS
from tests.support.contract import BUTTON, COMMANDS, CONTRACT, EDITING, SPLITTING, STATES, next_state


@pytest.fixture
def portal(aws):
    return SellerPortal("S-1")


@pytest.mark.parametrize("state_name", STATES)
def test_every_command_in_this_state_answers_as_the_contract_says(portal, dynamodb_calls, state_name):
    for command in COMMANDS:
        # Given an order in the state (a fresh one per command)
        before = portal.order_in(state_name, reference=f"{state_name}:{command}")
        assert commands.state_name(before) == state_name
        assert (before["cancellation"]["option"], before["cancellation"]["unavailable_reason"]) == BUTTON[state_name]
        assert (before["editing"]["option"], before["editing"]["unavailable_reason"]) == EDITING[state_name]
        assert (before["splitting"]["option"], before["splitting"]["unavailable_reason"]) == SPLITTING[state_name]
        assert reply_etag(portal.get(before["order_id"])) == f'"{before["version"]}"'

        # When the command is sent
        dynamodb_calls.clear()
        reply = portal.send(command, before["order_id"])

        # Then it made one conditional write (two for a despatch that meets a pending request)
        expected = CONTRACT[state_name, command]
        assert dynamodb_calls == requests_of(state_name, command, expected.http_status), (state_name, command)
        # And the status code, error code, written change and history are the contract's
        assert reply.status == expected.http_status, (command, reply.body)
        after = portal.get(before["order_id"]).body
        if expected.http_status == 409:
            assert reply.headers["Content-Type"] == "application/problem+json"
            assert reply.code == expected.code
            assert reply.body["order_status"] == before["status"]
            assert reply.body["status"] == 409 and reply.body["title"] and reply.body["detail"]
            assert after == before
            continue
        if command == "split":
            check_split_off(portal, reply, before)
            reply.body = reply.body["backorder"]
        assert reply.body == after
        assert reply_etag(reply) == f'"{after["version"]}"'
        assert commands.state_name(after) == next_state(state_name, command)
        if expected.event is None:
            assert after == before  # "200, unchanged": same order, no new history, same version
        else:
            assert after["version"] == before["version"] + 1
            assert after["history"][:-1] == before["history"]
            entry = after["history"][-1]
            assert entry["event"] == expected.event
            assert (entry["from_status"], entry["to_status"]) == (before["status"], after["status"])
            assert entry["by"] == ("seller:S-1" if command in SELLER_COMMANDS else "warehouse")
            assert entry.get("changed") == {"edit": ["courier_service"], "edit_items": ["items"]}.get(command)


def requests_of(state_name: str, command: str, status: int) -> dict[str, int]:
    """The DynamoDB requests a command makes (docs/api.md §10)."""
    if command == "split":
        return {"GetItem": 1, "TransactWriteItems": 1} if status == 201 else {"GetItem": 1}
    writes = 2 if (command == "DESPATCHED" and state_name.endswith("/REQUESTED")) else 1
    return {"UpdateItem": writes}


def check_split_off(portal, reply, before) -> None:
    """The order split off: what was in stock, PENDING, `<reference>-2`, each order naming the other."""
    new, original = reply.body["in_stock"], reply.body["backorder"]
    assert portal.get(new["order_id"]).body == new
    assert (new["status"], new["reference"], new["split_from"]) == (
        "PENDING",
        before["reference"] + "-2",
        before["order_id"],
    )
    assert new["items"] == [{"sku": "TSHIRT-RED-M", "quantity": 1}]
    assert [e["event"] for e in new["history"]] == ["ORDER_CREATED"] and new["history"][0]["split_from"] == before[
        "order_id"
    ]
    assert (new["recipient"], new["courier_service"]) == (before["recipient"], before["courier_service"])
    assert original["items"] == [{"sku": "TSHIRT-RED-M", "quantity": 1}]
    assert original["backorder"]["items"] == [{"line": 1, "sku": "TSHIRT-RED-M", "quantity": 1}]
    assert original["split_into"] == [new["order_id"]] and original["history"][-1]["split_into"] == new["order_id"]
    assert original["splitting"] == {"option": "NONE", "unavailable_reason": "NOTHING_IN_STOCK"}


def reply_etag(reply) -> str:
    return reply.headers["ETag"]
