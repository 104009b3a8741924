"""A hostile seller and warehouse against the bulk routes (docs/api.md §13), through the real functions on moto:
odd spellings of one id, bodies at the size limit, a time budget that runs out, and a mix of every state."""

from __future__ import annotations

import json

import pytest

from tests.integration.test_bulk import ABSENT, BULK, bulk, decide, orders_in
from tests.support.api import Reply, SellerPortal, function_for, invoke
from tests.support.events import LambdaContext, rest_event

LINES = [{"sku": "MUG-WHITE", "quantity": 2}, {"sku": "TEE-BLUE", "quantity": 1}]


@pytest.fixture
def portal(aws) -> SellerPortal:
    return SellerPortal("S-1")


def raw(resource: str, raw_body: str, **identity) -> Reply:
    event = rest_event("POST", resource, raw_body=raw_body, **identity)
    response = function_for("POST", resource)(event, LambdaContext())
    return Reply(response["statusCode"], response.get("headers") or {}, json.loads(response["body"]))


@pytest.mark.parametrize(
    "spelling",
    [
        lambda i: i + "\n",
        lambda i: " " + i,
        lambda i: i.upper(),
        lambda i: "ord_\u0430" + i[5:],  # a Cyrillic a
        lambda i: i.replace("ord_", "ORD_"),
        lambda i: i + "\u200b",
        lambda i: "ord_" + "\uff41" * 26,  # full-width a
    ],
)
def test_one_id_in_an_odd_spelling_is_a_400_naming_it_and_nothing_is_read(portal, spelling, dynamodb_calls):
    [order_id] = orders_in(portal, ["PENDING/-"], "ODD")
    dynamodb_calls.clear()
    reply = bulk({"order_ids": [order_id, spelling(order_id)]})
    assert (reply.status, reply.body["code"]) == (400, "VALIDATION_ERROR"), reply.body
    assert "order_ids[1]" in [error["field"] for error in reply.body["errors"]]
    assert not dynamodb_calls
    assert portal.get(order_id).body["status"] == "PENDING"


def test_the_same_id_escaped_in_json_is_a_duplicate(portal):
    [order_id] = orders_in(portal, ["PENDING/-"], "ESC")
    escaped = "".join(f"\\u{ord(c):04x}" for c in order_id)
    reply = raw(BULK, f'{{"order_ids": ["{order_id}", "{escaped}"]}}', seller_id="S-1")
    assert (reply.status, reply.body["code"]) == (400, "VALIDATION_ERROR"), reply.body
    assert order_id in reply.body["detail"]


def test_one_id_is_answered_as_the_single_cancel(portal):
    [order_id] = orders_in(portal, ["PENDING/-"], "ONE")
    reply = bulk({"order_ids": [order_id]})
    assert reply.status == 200
    assert reply.body["summary"] == {
        "cancelled": 1,
        "requested": 0,
        "unchanged": 0,
        "refused": 0,
        "not_found": 0,
        "not_done": 0,
    }


@pytest.mark.parametrize(("size", "status"), [(64 * 1024, 200), (64 * 1024 + 1, 413)])
def test_a_body_at_the_64_kib_limit_is_taken_and_one_byte_more_is_413(portal, size, status):
    head = json.dumps({"order_ids": [ABSENT]})
    padded = head[:-1] + " " * (size - len(head)) + "}"
    assert len(padded.encode()) == size
    reply = raw(BULK, padded, seller_id="S-1")
    assert reply.status == status, reply.body


def test_a_body_of_multibyte_characters_is_measured_in_bytes(portal):
    head = json.dumps({"order_ids": [ABSENT], "note": "x"})
    padded = head.replace('"x"', '"' + "🚚" * 16_400 + '"')  # 16,400 characters, 65,600 bytes
    reply = raw(BULK, padded, seller_id="S-1")
    assert reply.status == 413, reply.body


@pytest.mark.parametrize(("note", "status"), [("n" * 500, 200), ("🚚" * 500, 200), ("n" * 501, 400)])
def test_a_huge_note_is_taken_to_500_characters_and_carried_to_each_request(portal, note, status):
    [order_id] = orders_in(portal, ["SENT_TO_WAREHOUSE/-"], "NOTE")
    reply = bulk({"order_ids": [order_id], "if_in_warehouse": "REQUEST", "note": note})
    assert reply.status == status, reply.body
    if status == 200:
        assert reply.body["results"][0]["order"]["cancellation"]["request"]["note"] == note


@pytest.mark.parametrize("seconds", [0, 0.9, 1.4])
def test_a_call_left_with_no_time_answers_not_done_for_each_write_never_500(portal, seconds, dynamodb_calls):
    ids = orders_in(portal, ["PENDING/-", "CANCELLED/-", "DESPATCHED/-"], "LATE")
    dynamodb_calls.clear()
    reply = bulk({"order_ids": [*ids, ABSENT]}, context=LambdaContext(timeout_seconds=seconds))
    assert reply.status == 200, reply.body
    actions = [result["action"] for result in reply.body["results"]]
    assert actions == ["NOT_DONE", "UNCHANGED", "REFUSED", "NOT_FOUND"]
    assert reply.body["results"][0]["status"] == 503
    assert reply.body["summary"]["not_done"] == 1
    assert dynamodb_calls == {"BatchGetItem": 1}
    assert portal.get(ids[0]).body["status"] == "PENDING"
    again = bulk({"order_ids": [*ids, ABSENT]})
    assert [result["action"] for result in again.body["results"]][0] == "CANCELLED"


def test_bulk_cancel_across_every_state_answers_each_as_its_single_command_in_request_order(portal, dynamodb_calls):
    pending = portal.create("MIX-P", items=LINES).body["order_id"]
    waiting = portal.create("MIX-B", items=LINES).body["order_id"]
    body = {"status": "ON_BACKORDER", "backordered_items": [{"line": 1, "sku": "MUG-WHITE", "quantity": 1}]}
    path = {"order_id": waiting}
    assert invoke("POST", "/warehouse/orders/{order_id}/status", path_parameters=path, body=body, warehouse=True)
    sent, despatched = orders_in(portal, ["SENT_TO_WAREHOUSE/-", "DESPATCHED/-"], "MIX")
    theirs = SellerPortal("S-2").order_in("PENDING/-", "MIX-THEIRS")["order_id"]
    ids = [despatched, theirs, sent, waiting, ABSENT, pending]
    dynamodb_calls.clear()

    reply = bulk({"order_ids": ids, "if_in_warehouse": "REQUEST"})

    assert reply.status == 200
    shown = [(r["order_id"], r["status"], r["action"]) for r in reply.body["results"]]
    assert shown == [
        (despatched, 409, "REFUSED"),
        (theirs, 404, "NOT_FOUND"),
        (sent, 202, "CANCELLATION_REQUESTED"),
        (waiting, 200, "CANCELLED"),
        (ABSENT, 404, "NOT_FOUND"),
        (pending, 200, "CANCELLED"),
    ]
    assert reply.body["results"][0]["problem"]["code"] == "ORDER_DESPATCHED"
    assert reply.body["summary"] == {
        "cancelled": 2,
        "requested": 1,
        "unchanged": 0,
        "refused": 1,
        "not_found": 2,
        "not_done": 0,
    }
    assert dynamodb_calls["BatchGetItem"] == 1 and sum(dynamodb_calls.values()) == 1 + 3
    assert SellerPortal("S-2").get(theirs).body["status"] == "PENDING"
    theirs_problem = json.dumps(reply.body["results"][1], sort_keys=True)
    absent_problem = json.dumps(reply.body["results"][4], sort_keys=True)
    assert theirs_problem == absent_problem.replace(ABSENT, theirs)


def test_a_dry_run_then_the_real_call_then_a_repeat(portal, dynamodb_calls):
    ids = orders_in(portal, ["PENDING/-", "SENT_TO_WAREHOUSE/-", "PACKED/REQUESTED"], "DRY")
    body = {"order_ids": ids, "if_in_warehouse": "REQUEST", "reason_code": "CUSTOMER_REQUEST"}
    dynamodb_calls.clear()
    dry = bulk({**body, "dry_run": True})
    assert dynamodb_calls == {"BatchGetItem": 1}
    real = bulk(body)
    repeat = bulk(body)
    assert [r["action"] for r in dry.body["results"]] == [r["action"] for r in real.body["results"]]
    assert [r["action"] for r in real.body["results"]] == ["CANCELLED", "CANCELLATION_REQUESTED", "UNCHANGED"]
    assert [r["action"] for r in repeat.body["results"]] == ["UNCHANGED", "UNCHANGED", "UNCHANGED"]
    assert [r["status"] for r in repeat.body["results"]] == [200, 202, 202]


@pytest.mark.parametrize("count", [0, 101])
def test_decisions_of_0_or_101_orders_are_400_and_nothing_is_read(aws, count, dynamodb_calls):
    decisions = [
        {"order_id": "ord_" + format(n, "026b").replace("0", "a").replace("1", "b"), "decision": "APPROVED"}
        for n in range(count)
    ]
    reply = decide(decisions)
    assert (reply.status, reply.body["code"]) == (400, "VALIDATION_ERROR")
    assert not dynamodb_calls


def test_decisions_naming_one_order_twice_with_opposite_decisions_are_400(portal, dynamodb_calls):
    [order_id] = orders_in(portal, ["PACKED/REQUESTED"], "TWICE")
    dynamodb_calls.clear()
    reply = decide(
        [
            {"order_id": order_id, "decision": "APPROVED"},
            {"order_id": order_id, "decision": "REJECTED", "reason_code": "ALREADY_PACKED"},
        ]
    )
    assert (reply.status, reply.body["code"]) == (400, "VALIDATION_ERROR"), reply.body
    assert not dynamodb_calls
    assert portal.get(order_id).body["cancellation"]["request"]["status"] == "REQUESTED"
