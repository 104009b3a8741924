"""Many orders at once (docs/api.md §13): POST /bulk-cancellations and POST /warehouse/cancellation-decisions
as API Gateway invokes them, moto behind; the DynamoDB requests counted at the functions' client."""

from __future__ import annotations

import itertools
import json
import math
import random
import threading
import time
import types
from typing import Any

import pytest

from orders import settings
from orders.domain import WAREHOUSE, Action, OrderStatus
from orders.store import OrderStore, RefusalError
from tests.support.api import Reply, SellerPortal, function_for
from tests.support.events import LambdaContext, rest_event
from tests.support.threads import eager_switching

BULK = "/bulk-cancellations"
DECISIONS = "/warehouse/cancellation-decisions"
ABSENT = "ord_" + "a" * 26
# The states of the contract's seller table, with what a bulk cancel (SKIP, then REQUEST) sends and answers.
SELLER_ROWS = {
    "PENDING/-": (("cancel", 200, "CANCELLED"), ("cancel", 200, "CANCELLED")),
    "SENT_TO_WAREHOUSE/-": (("cancel", 409, "REFUSED"), ("request", 202, "CANCELLATION_REQUESTED")),
    "PACKED/REQUESTED": (("cancel", 409, "REFUSED"), ("request", 202, "UNCHANGED")),
    "PICKED/REJECTED": (("cancel", 409, "REFUSED"), ("cancel", 409, "REFUSED")),
    "DESPATCHED/-": (("cancel", 409, "REFUSED"), ("cancel", 409, "REFUSED")),
    "CANCELLED/-": (("cancel", 200, "UNCHANGED"), ("cancel", 200, "UNCHANGED")),
    "CANCELLED/APPROVED": (("cancel", 200, "UNCHANGED"), ("cancel", 200, "UNCHANGED")),
}


@pytest.fixture
def portal(aws):
    return SellerPortal("S-1")


def bulk(body: Any, seller_id: str = "S-1", context: LambdaContext | None = None) -> Reply:
    return call("POST", BULK, body, context, seller_id=seller_id)


def decide(decisions: list[dict], context: LambdaContext | None = None) -> Reply:
    return call("POST", DECISIONS, {"decisions": decisions}, context, warehouse=True)


def call(method: str, resource: str, body: Any, context: LambdaContext | None, **identity: Any) -> Reply:
    response = function_for(method, resource)(
        rest_event(method, resource, body=body, **identity), context or LambdaContext()
    )
    headers = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return Reply(response["statusCode"], headers, json.loads(response["body"]))


def orders_in(portal: SellerPortal, states: list[str], prefix: str) -> list[str]:
    return [portal.order_in(state, f"{prefix}-{n}")["order_id"] for n, state in enumerate(states)]


def stored_versions(portal: SellerPortal, order_ids: list[str]) -> dict[str, int]:
    return {order_id: portal.get(order_id).body["version"] for order_id in order_ids}


def single_answer(portal: SellerPortal, command: str, order_id: str) -> tuple[int, dict]:
    reply = portal.send(command, order_id)
    return reply.status, reply.body


@pytest.mark.parametrize("mode", ["SKIP", "REQUEST"])
def test_each_result_is_what_the_single_command_answers_in_request_order(portal, mode, dynamodb_calls):
    states = list(SELLER_ROWS)
    order_ids = orders_in(portal, states, mode)
    other = SellerPortal("S-2").create("THEIRS").body["order_id"]
    sent = [*reversed(order_ids), other, ABSENT]
    dynamodb_calls.clear()

    reply = bulk({"order_ids": sent, "if_in_warehouse": mode, "reason_code": "FRAUD_SUSPECTED", "note": "wave"})

    assert reply.status == 200
    assert [result["order_id"] for result in reply.body["results"]] == sent
    expected_writes = 0
    by_id = {result["order_id"]: result for result in reply.body["results"]}
    for order_id, state in zip(order_ids, states, strict=True):
        command, status, action = SELLER_ROWS[state][mode == "REQUEST"]
        result = by_id[order_id]
        assert (result["status"], result["action"]) == (status, action), (state, result)
        expected_writes += action in ("CANCELLED", "CANCELLATION_REQUESTED")
        # The same command sent alone now answers the same (a change made is "unchanged" now, same order).
        single_status, single_body = single_answer(portal, command, order_id)
        assert single_status == status
        assert (result.get("order") or result["problem"]) == single_body
        assert ("order" in result) != ("problem" in result)
    for order_id in (other, ABSENT):
        assert by_id[order_id]["status"] == 404 and by_id[order_id]["action"] == "NOT_FOUND"
    assert reply.body["summary"] == {
        "cancelled": 1,
        "requested": 1 if mode == "REQUEST" else 0,
        "unchanged": 3 if mode == "REQUEST" else 2,
        "refused": 2 if mode == "REQUEST" else 4,
        "not_found": 2,
        "not_done": 0,
    }
    assert reply.body["dry_run"] is False
    # One read of every id, one conditional write per order that needed one.
    bulk_calls = {k: v for k, v in dynamodb_calls.items() if k in ("BatchGetItem", "UpdateItem")}
    assert bulk_calls["BatchGetItem"] == 1
    # The single commands sent afterwards are one UpdateItem each (and the bulk's writes the rest).
    assert bulk_calls["UpdateItem"] == expected_writes + len(order_ids)


def test_a_request_carries_the_bulk_calls_reason_and_note(portal):
    [order_id] = orders_in(portal, ["SENT_TO_WAREHOUSE/-"], "R")
    reply = bulk({"order_ids": [order_id], "if_in_warehouse": "REQUEST", "reason_code": "DUPLICATE_ORDER", "note": "x"})
    request = reply.body["results"][0]["order"]["cancellation"]["request"]
    assert (request["status"], request["reason_code"], request["note"]) == ("REQUESTED", "DUPLICATE_ORDER", "x")
    assert request["due_at"] is not None


def test_another_sellers_order_is_indistinguishable_from_an_absent_one(portal):
    theirs = SellerPortal("S-2").order_in("SENT_TO_WAREHOUSE/REQUESTED", "SECRET")["order_id"]
    absent = "ord_" + "b" * 26
    for dry_run in (True, False):
        reply = bulk({"order_ids": [theirs, absent], "if_in_warehouse": "REQUEST", "dry_run": dry_run})
        seen, missing = reply.body["results"]
        assert seen == {
            **missing,
            "order_id": theirs,
            "problem": {**missing["problem"], "detail": seen["problem"]["detail"]},
        }
        assert seen["problem"]["detail"] == missing["problem"]["detail"].replace(absent, theirs)
        assert "S-2" not in json.dumps(reply.body)
    assert SellerPortal("S-2").get(theirs).body["version"] == 3  # untouched


def test_a_dry_run_writes_nothing_and_says_what_the_real_call_then_does(portal, dynamodb_calls):
    states = list(SELLER_ROWS)
    order_ids = orders_in(portal, states, "DRY")
    before = stored_versions(portal, order_ids)
    dynamodb_calls.clear()

    dry = bulk({"order_ids": order_ids, "if_in_warehouse": "REQUEST", "dry_run": True})

    assert dict(dynamodb_calls) == {"BatchGetItem": 1}
    assert stored_versions(portal, order_ids) == before
    assert dry.body["dry_run"] is True
    # The order as it stands: the version it has now.
    for result, order_id in zip(dry.body["results"], order_ids, strict=True):
        if "order" in result:
            assert result["order"]["version"] == before[order_id]
    real = bulk({"order_ids": order_ids, "if_in_warehouse": "REQUEST"})
    assert [(r["status"], r["action"]) for r in dry.body["results"]] == [
        (r["status"], r["action"]) for r in real.body["results"]
    ]
    assert {k: v for k, v in dry.body["summary"].items()} == real.body["summary"]
    problems = [r["problem"] for r in real.body["results"] if "problem" in r]
    assert problems == [r["problem"] for r in dry.body["results"] if "problem" in r]


def test_a_repeated_call_answers_unchanged_for_what_the_first_did_and_adds_no_event(portal):
    order_ids = orders_in(portal, ["PENDING/-", "PENDING/-", "PICKED/-", "PACKED/-"], "AGAIN")
    body = {"order_ids": order_ids, "if_in_warehouse": "REQUEST", "reason_code": "CUSTOMER_REQUEST"}
    first = bulk(body)
    second = bulk(body)

    assert [r["action"] for r in first.body["results"]] == ["CANCELLED"] * 2 + ["CANCELLATION_REQUESTED"] * 2
    assert [r["action"] for r in second.body["results"]] == ["UNCHANGED"] * 4
    assert [r["order"] for r in second.body["results"]] == [r["order"] for r in first.body["results"]]
    for order_id in order_ids:
        events = [entry["event"] for entry in portal.get(order_id).body["history"]]
        assert events.count("ORDER_CANCELLED") + events.count("CANCELLATION_REQUESTED") == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"order_ids": []}, "order_ids"),
        (
            {"order_ids": ["ord_" + format(n, "026b").replace("0", "a").replace("1", "b") for n in range(101)]},
            "order_ids",
        ),
        ({"order_ids": [ABSENT, "ord_" + "c" * 26, ABSENT]}, "order_ids"),
        ({"order_ids": ["ord_NOT-AN-ID"]}, "order_ids[0]"),
        ({"order_ids": [ABSENT], "if_in_warehouse": "MAYBE"}, "if_in_warehouse"),
        ({"order_ids": [ABSENT], "reason_code": "BORED"}, "reason_code"),
        ({"order_ids": [ABSENT], "note": "x" * 501}, "note"),
        ({"order_ids": [ABSENT], "dry_run": "yes"}, "dry_run"),
        ({"order_ids": [ABSENT], "seller_id": "S-2"}, "seller_id"),
        ({"order_ids": ABSENT}, "order_ids"),
        ({}, "order_ids"),
        (None, "body"),
    ],
)
def test_a_malformed_body_is_400_as_a_whole_and_nothing_is_read_or_written(portal, body, field, dynamodb_calls):
    [order_id] = orders_in(portal, ["PENDING/-"], "BAD")
    dynamodb_calls.clear()
    reply = bulk(body)
    assert reply.status == 400 and reply.body["code"] == "VALIDATION_ERROR", reply.body
    assert field in {error["field"] for error in reply.body["errors"]}, reply.body
    assert not dynamodb_calls
    assert portal.get(order_id).body["status"] == "PENDING"


def test_a_duplicate_is_named(portal):
    reply = bulk({"order_ids": [ABSENT, ABSENT]})
    assert reply.status == 400 and ABSENT in reply.body["detail"]


def test_unprocessed_keys_are_read_again_and_every_order_answered(portal, dynamodb_calls):
    order_ids = orders_in(portal, ["PENDING/-"] * 4, "UNPROCESSED")
    client = settings.dynamodb()
    left_over = {"times": 1}

    def half_unprocessed(params, **_):
        if left_over["times"] == 0:
            return None
        left_over["times"] -= 1
        keys = json.loads(params["body"])["RequestItems"][settings.settings().table_name]["Keys"]
        parsed = {"Responses": {}, "UnprocessedKeys": {settings.settings().table_name: {"Keys": keys[2:]}}}
        parsed["Responses"][settings.settings().table_name] = [
            client.get_item(TableName=settings.settings().table_name, Key=key, ConsistentRead=True)["Item"]
            for key in keys[:2]
        ]
        return types.SimpleNamespace(status_code=200, headers={}), parsed

    client.meta.events.register_first("before-call.dynamodb.BatchGetItem", half_unprocessed)
    dynamodb_calls.clear()
    reply = bulk({"order_ids": order_ids})
    client.meta.events.unregister("before-call.dynamodb.BatchGetItem", half_unprocessed)

    assert [r["action"] for r in reply.body["results"]] == ["CANCELLED"] * 4
    # The answered request stops the counting hook: one request answered here, one by moto.
    assert left_over["times"] == 0
    assert dynamodb_calls["BatchGetItem"] == 1 and dynamodb_calls["UpdateItem"] == 4


def test_keys_still_unprocessed_after_the_retries_are_a_503_and_nothing_is_written(portal, dynamodb_calls, monkeypatch):
    import orders.store

    monkeypatch.setattr(orders.store, "BATCH_GET_FIRST_PAUSE_SECONDS", 0.001)
    order_ids = orders_in(portal, ["PENDING/-"] * 2, "THROTTLED")
    client = settings.dynamodb()

    attempts = []

    def nothing_processed(params, **_):
        attempts.append(1)
        return types.SimpleNamespace(status_code=200, headers={}), {
            "Responses": {},
            "UnprocessedKeys": json.loads(params["body"])["RequestItems"],
        }

    client.meta.events.register_first("before-call.dynamodb.BatchGetItem", nothing_processed)
    dynamodb_calls.clear()
    reply = bulk({"order_ids": order_ids})
    client.meta.events.unregister("before-call.dynamodb.BatchGetItem", nothing_processed)

    assert reply.status == 503 and reply.body["code"] == "SERVICE_UNAVAILABLE" and reply.headers["Retry-After"]
    assert len(attempts) == orders.store.BATCH_GET_ATTEMPTS and "UpdateItem" not in dynamodb_calls
    assert all(portal.get(order_id).body["status"] == "PENDING" for order_id in order_ids)


def test_a_hundred_orders_cost_one_read_and_one_write_each_that_needs_one(portal, dynamodb_calls):
    order_ids = orders_in(portal, ["PENDING/-"] * 60 + ["DESPATCHED/-"] * 20 + ["CANCELLED/-"] * 20, "HUNDRED")
    dynamodb_calls.clear()
    reply = bulk({"order_ids": order_ids})
    n = len(order_ids)
    assert reply.body["summary"] == {
        "cancelled": 60,
        "requested": 0,
        "unchanged": 20,
        "refused": 20,
        "not_found": 0,
        "not_done": 0,
    }
    assert dict(dynamodb_calls) == {"BatchGetItem": math.ceil(n / 100), "UpdateItem": 60}


def test_writes_that_cannot_be_done_in_time_are_not_done_and_a_repeat_finishes_them(portal, dynamodb_calls):
    order_ids = orders_in(portal, ["PENDING/-"] * 30, "SLOW")
    client = settings.dynamodb()

    writes = itertools.count()

    def slow_write(**_):
        if next(writes) >= 10:  # the first ten writes at once, then DynamoDB slows down (2 s a write)
            time.sleep(2)

    client.meta.events.register("before-call.dynamodb.UpdateItem", slow_write)
    # 2.5 s of Lambda time: 1.5 s for the writes after the answer's margin: ten are done, ten in flight
    # at the end, ten never started (a loaded machine's slower read still leaves the first ten their time).
    reply = bulk({"order_ids": order_ids}, context=LambdaContext(timeout_seconds=2.5))
    client.meta.events.unregister("before-call.dynamodb.UpdateItem", slow_write)

    assert reply.status == 200
    actions = [r["action"] for r in reply.body["results"]]
    assert "NOT_DONE" in actions and "CANCELLED" in actions
    time.sleep(2.5)  # writes still in flight when the answer went land now
    for result in reply.body["results"]:
        status = portal.get(result["order_id"]).body["status"]
        if result["action"] == "CANCELLED":
            assert status == "CANCELLED"
        else:
            assert result["status"] == 503 and result["problem"]["code"] == "SERVICE_UNAVAILABLE"
            assert "again" in result["problem"]["detail"]
            if "nothing was changed" in result["problem"]["detail"]:
                assert status == "PENDING"
    again = bulk({"order_ids": order_ids})
    assert {r["action"] for r in again.body["results"]} <= {"CANCELLED", "UNCHANGED"}
    assert all(portal.get(order_id).body["status"] == "CANCELLED" for order_id in order_ids)


def test_bulk_cancel_racing_the_warehouse_on_30_orders_agrees_with_every_final_state(portal, dynamodb_calls):
    """The seller cancels 30 pending orders in one call while the warehouse takes in each of them."""
    order_ids = orders_in(portal, ["PENDING/-"] * 30, "RACE")
    # The warehouse's own client, so that the counts below are the bulk call's alone.
    warehouse = OrderStore(client=_another_client())
    answers: dict[str, str] = {}
    start = threading.Barrier(len(order_ids) + 1)

    jitter = random.Random(27)
    delays = {order_id: jitter.uniform(0, 0.6) for order_id in order_ids}

    def take_in(order_id: str) -> None:
        start.wait()
        time.sleep(delays[order_id])  # some before the bulk call's read, some between its read and write, some after
        try:
            warehouse.apply(order_id, Action.move_to(OrderStatus.SENT_TO_WAREHOUSE), WAREHOUSE)
            answers[order_id] = "MOVED"
        except RefusalError as refused:
            answers[order_id] = refused.refusal.value

    reply: dict[str, Reply] = {}

    def cancel_all() -> None:
        start.wait()
        reply["bulk"] = bulk({"order_ids": order_ids})

    dynamodb_calls.clear()
    with eager_switching():
        threads = [threading.Thread(target=take_in, args=(order_id,)) for order_id in order_ids]
        threads.append(threading.Thread(target=cancel_all))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    counted = dict(dynamodb_calls)
    results = reply["bulk"].body["results"]
    written = 0
    for result in results:
        order = portal.get(result["order_id"]).body
        events = [entry["event"] for entry in order["history"]]
        assert events[0] == "ORDER_CREATED" and len(events) == 2  # each order changed exactly once
        if result["action"] == "CANCELLED":
            assert order["status"] == "CANCELLED" and events[1] == "ORDER_CANCELLED"
            assert answers[result["order_id"]] == "ORDER_CANCELLED"
            assert result["order"] == order
        else:
            assert result == {**result, "status": 409, "action": "REFUSED"}
            assert result["problem"]["code"] == "ORDER_IN_WAREHOUSE"
            assert order["status"] == "SENT_TO_WAREHOUSE" and events[1] == "STATUS_CHANGED"
            assert answers[result["order_id"]] == "MOVED"
        written += result["action"] == "CANCELLED"
    # ceil(30/100) reads; a write for each order read as pending (raced ones refused, answered from ALL_OLD).
    assert counted["BatchGetItem"] == 1
    assert written <= counted["UpdateItem"] <= len(order_ids)
    assert set(counted) == {"BatchGetItem", "UpdateItem"}


def _another_client():
    from botocore.session import get_session

    return get_session().create_client("dynamodb", region_name="eu-west-2")


# -- the warehouse's decisions ---------------------------------------------------------------------


def test_decisions_answer_each_as_the_single_decision_would(portal, dynamodb_calls):
    order_ids = orders_in(
        portal,
        ["PACKED/REQUESTED", "PICKED/REQUESTED", "CANCELLED/APPROVED", "PICKED/REJECTED", "PENDING/-"],
        "DECIDE",
    )
    approve, reject = {"decision": "APPROVED"}, {"decision": "REJECTED", "reason_code": "ALREADY_PACKED", "note": "n"}
    decisions = [
        {"order_id": order_ids[0], **approve},
        {"order_id": order_ids[1], **reject},
        {"order_id": order_ids[2], **approve},
        {"order_id": order_ids[3], **approve},
        {"order_id": order_ids[4], **reject},
        {"order_id": ABSENT, **approve},
    ]
    dynamodb_calls.clear()
    reply = decide(decisions)

    assert reply.status == 200
    assert [(r["status"], r["action"]) for r in reply.body["results"]] == [
        (200, "APPROVED"),
        (200, "REJECTED"),
        (200, "UNCHANGED"),
        (409, "REFUSED"),
        (409, "REFUSED"),
        (404, "NOT_FOUND"),
    ]
    assert reply.body["summary"] == {
        "approved": 1,
        "rejected": 1,
        "unchanged": 1,
        "refused": 2,
        "not_found": 1,
        "not_done": 0,
    }
    assert dict(dynamodb_calls) == {"BatchGetItem": 1, "UpdateItem": 2}
    rejected = reply.body["results"][1]["order"]["cancellation"]["request"]
    assert (rejected["decision_reason_code"], rejected["decision_note"]) == ("ALREADY_PACKED", "n")
    assert [r["problem"]["code"] for r in reply.body["results"][3:5]] == [
        "DECISION_CONFLICT",
        "NO_CANCELLATION_REQUEST",
    ]
    # Sent alone now, each decision answers the same.
    for decision, result in zip(decisions[:5], reply.body["results"], strict=False):
        command = "approve" if decision["decision"] == "APPROVED" else "reject"
        status, body = single_answer(portal, command, decision["order_id"])
        assert status == result["status"] and body == (result.get("order") or result["problem"])
    again = decide(decisions[:2])
    assert [r["action"] for r in again.body["results"]] == ["UNCHANGED", "UNCHANGED"]


@pytest.mark.parametrize(
    "decisions, field",
    [
        ([], "decisions"),
        ([{"order_id": ABSENT, "decision": "REJECTED"}], "decisions[0].reason_code"),
        ([{"order_id": ABSENT, "decision": "MAYBE"}], "decisions[0].decision"),
        ([{"order_id": "ord_x", "decision": "APPROVED"}], "decisions[0].order_id"),
        ([{"order_id": ABSENT, "decision": "APPROVED"}] * 2, "decisions"),
        ([{"order_id": ABSENT, "decision": "APPROVED", "extra": 1}], "decisions[0].extra"),
        (
            [
                {"order_id": "ord_" + format(n, "026b").replace("0", "a").replace("1", "b"), "decision": "APPROVED"}
                for n in range(101)
            ],
            "decisions",
        ),
    ],
)
def test_malformed_decisions_are_400_and_nothing_is_read(aws, decisions, field, dynamodb_calls):
    reply = decide(decisions)
    assert reply.status == 400 and reply.body["code"] == "VALIDATION_ERROR", reply.body
    assert field in {error["field"] for error in reply.body["errors"]}, reply.body
    assert not dynamodb_calls


def test_decisions_need_the_warehouse_and_bulk_cancel_a_seller(aws):
    assert bulk({"order_ids": [ABSENT]}, seller_id="").status == 403


def test_bulk_writes_are_the_single_commands_writes(portal):
    """What make capacity's commands.toml says of bulk: each order's write is its single command's, byte for byte
    but for the values (the times, the ids)."""
    client = settings.dynamodb()
    sent: list[tuple] = []

    def capture(params, **_):
        sent.append((params["UpdateExpression"], params["ConditionExpression"], params["ExpressionAttributeNames"]))

    single_ids = orders_in(portal, ["PENDING/-", "PICKED/-"], "SINGLE")
    bulk_ids = orders_in(portal, ["PENDING/-", "PICKED/-"], "BULK")
    client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", capture)
    portal.send("cancel", single_ids[0])
    portal.send("request", single_ids[1])
    singles = list(sent)
    sent.clear()
    bulk({"order_ids": bulk_ids, "if_in_warehouse": "REQUEST", "reason_code": "CUSTOMER_REQUEST", "note": "n"})
    client.meta.events.unregister("before-parameter-build.dynamodb.UpdateItem", capture)
    assert sorted(sent, key=repr) == sorted(singles, key=repr) and len(sent) == 2
