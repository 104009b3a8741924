"""The warehouse's side end to end (docs/api.md §6): its read routes with SigV4, the escalation run
by the local schedule, moto's recorder counting each page's DynamoDB requests, and `orders-warehouse`.

This module runs on the fast-timer stack (tests/conftest.py's `fast_stack`, started as
`PARAM_CancellationRequestSlaSeconds=6 make run` would), so that requests become overdue within the
test; the CLI tests that need no overdue request use the shared e2e stack. The CLI's --help and
refusals need no stack: tests/unit/test_warehouse_cli.py.
"""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.local_stack import (
    FAST_SLA_SECONDS,
    Portal,
    RunningStack,
    Warehouse,
    new_seller,
    order_body,
    session,
    sleep_until,
)

SLA_SECONDS = FAST_SLA_SECONDS
CLI = Path(sys.executable).with_name("orders-warehouse")


@pytest.fixture
def queue_stack(fast_stack: RunningStack) -> RunningStack:
    return fast_stack


@pytest.fixture
def portal(queue_stack) -> Portal:
    return Portal(queue_stack.api_url, new_seller())


@pytest.fixture
def warehouse(queue_stack) -> Warehouse:
    return Warehouse(queue_stack.api_url)


def pending_request(portal: Portal, warehouse: Warehouse) -> dict:
    order = portal.create_order()
    assert warehouse.move(order["order_id"], "SENT_TO_WAREHOUSE").status_code == 200
    answer = portal.request("POST", f"/orders/{order['order_id']}/cancellation-request", {"reason_code": "OTHER"})
    assert answer.status_code == 202, answer.text
    return answer.json()


def whole_queue(warehouse: Warehouse, query: str = "") -> list[dict]:
    found, token = [], None
    while True:
        answer = warehouse.get(
            f"/warehouse/cancellation-requests?limit=100{query}" + (f"&next_token={token}" if token else "")
        )
        assert answer.status_code == 200, answer.text
        found += answer.json()["requests"]
        token = answer.json()["next_token"]
        if token is None:
            return found


def _body(entry: dict) -> str:
    """A recorded request's body, as sent."""
    return base64.b64decode(entry["body"]).decode() if entry.get("body_encoded") else entry.get("body") or "{}"


def cli(stack: RunningStack, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CLI), "--api", stack.api_url, *arguments], capture_output=True, text=True, timeout=60, check=False
    )


def whole_queue_table(stack: RunningStack) -> str:
    """Every page of `orders-warehouse queue`, each asked with the command its previous page printed."""
    pages, arguments = [], ["queue", "--limit", "100"]
    while True:
        page = cli(stack, *arguments)
        assert page.returncode == 0, page.stderr
        pages.append(page.stdout)
        more = [line for line in page.stdout.splitlines() if line.startswith("More: ")]
        if not more:
            return "".join(pages)
        arguments = ["queue", "--limit", "100", "--next-token", shlex.split(more[0])[-1]]


def test_the_banner_shows_the_overridden_limit_and_how_to_run_the_sweep(queue_stack):
    output = queue_stack.output()
    assert f"CancellationRequestSlaSeconds  {SLA_SECONDS} (PARAM_CancellationRequestSlaSeconds)" in output
    assert f"curl -s -X POST {queue_stack.api_url}/_local/schedules/EscalationFunction" in output


def test_the_warehouse_reads_the_queue_and_any_order_and_a_seller_cannot(queue_stack, portal, warehouse):
    order = pending_request(portal, warehouse)
    order_id = order["order_id"]

    queued = {request["order_id"]: request for request in whole_queue(warehouse)}
    assert queued[order_id]["cancellation"]["request"]["due_at"] == order["cancellation"]["request"]["due_at"]
    read = warehouse.get(f"/warehouse/orders/{order_id}")
    assert read.status_code == 200 and read.json() == portal.request("GET", f"/orders/{order_id}").json()
    assert read.headers["ETag"] == f'"{order["version"]}"'

    # A seller's token is no warehouse signature; no credentials at all are none either
    http = session()
    for path in ("/warehouse/cancellation-requests", f"/warehouse/orders/{order_id}"):
        as_seller = http.get(f"{queue_stack.api_url}{path}", headers={"Authorization": portal.token}, timeout=10)
        assert as_seller.status_code == 403, as_seller.text
        assert http.get(f"{queue_stack.api_url}{path}", timeout=10).status_code == 403
    unknown = warehouse.get("/warehouse/orders/ord_" + "a" * 26)
    assert unknown.status_code == 404 and unknown.json()["code"] == "ORDER_NOT_FOUND"
    refused = warehouse.get("/warehouse/cancellation-requests?overdue=maybe")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "overdue"


def test_a_page_of_the_queue_is_one_dynamodb_request_at_motos_recorder(queue_stack, portal, warehouse):
    for _ in range(3):
        pending_request(portal, warehouse)
    moto = session()

    def dynamodb_requests_of(path: str) -> list[str]:
        moto.post(f"{queue_stack.aws_url}/moto-api/recorder/reset-recording", timeout=10)
        moto.post(f"{queue_stack.aws_url}/moto-api/recorder/start-recording", timeout=10)
        answer = warehouse.get(path)
        moto.post(f"{queue_stack.aws_url}/moto-api/recorder/stop-recording", timeout=10)
        assert answer.status_code == 200, answer.text
        recording = moto.get(f"{queue_stack.aws_url}/moto-api/recorder/download-recording", timeout=10).text
        # Meanwhile the stream poller reads the stream (DynamoDBStreams_...) and the delivery function
        # writes the sellers' feeds (the notifications table): the orders table's requests only.
        return [
            entry["headers"]["X-Amz-Target"]
            for entry in map(json.loads, filter(None, recording.splitlines()))
            if entry["headers"].get("X-Amz-Target", "").startswith("DynamoDB_20120810.")
            and json.loads(_body(entry)).get("TableName") == queue_stack.table()
        ]

    first = warehouse.get("/warehouse/cancellation-requests?limit=2").json()
    assert first["next_token"]
    for path in (
        "/warehouse/cancellation-requests?limit=2",
        f"/warehouse/cancellation-requests?limit=2&next_token={first['next_token']}",
        "/warehouse/cancellation-requests?overdue=true",
        "/warehouse/cancellation-requests?overdue=false&limit=100",
    ):
        assert dynamodb_requests_of(path) == ["DynamoDB_20120810.Query"], path


def test_a_request_past_its_limit_is_escalated_once_by_the_schedule_and_told(queue_stack, portal, warehouse):
    order = pending_request(portal, warehouse)
    order_id = order["order_id"]
    assert order_id not in {o["order_id"] for o in whole_queue(warehouse, "&overdue=true")}
    sleep_until(order["cancellation"]["request"]["due_at"])
    assert order_id in {o["order_id"] for o in whole_queue(warehouse, "&overdue=true")}
    assert order_id not in {o["order_id"] for o in whole_queue(warehouse, "&overdue=false")}

    http = session()
    first = http.post(f"{queue_stack.api_url}/_local/schedules/EscalationFunction", timeout=30)
    again = http.post(f"{queue_stack.api_url}/_local/schedules/EscalationFunction", timeout=30)

    assert first.status_code == 200, first.text
    assert first.json()["result"]["escalated"] >= 1 and first.json()["result"]["complete"] is True
    assert again.json()["result"]["escalated"] == 0
    order = portal.request("GET", f"/orders/{order_id}").json()
    assert order["cancellation"]["request"]["escalated_at"] is not None
    assert [entry["event"] for entry in order["history"]].count("CANCELLATION_REQUEST_OVERDUE") == 1
    assert order["history"][-1]["by"] == "system"
    told = portal.wait_for_notifications(2)
    assert [n["event_type"] for n in told] == ["CANCELLATION_REQUESTED", "CANCELLATION_REQUEST_OVERDUE"]
    assert told[-1]["event_id"] == f"{order_id}:{order['version']}"

    # A decision after the escalation works as before and takes the order off the queue
    assert warehouse.decide(order_id, "APPROVED").status_code == 200
    assert order_id not in {o["order_id"] for o in whole_queue(warehouse)}

    unknown = http.post(f"{queue_stack.api_url}/_local/schedules/NotAFunction", timeout=10)
    assert unknown.status_code == 404 and "EscalationFunction" in unknown.json()["detail"]


# -- orders-warehouse ---------------------------------------------------------------------------


def test_the_cli_shows_the_queue_and_an_order(queue_stack, portal, warehouse):
    order = pending_request(portal, warehouse)

    queue = cli(queue_stack, "queue")
    assert queue.returncode == 0, queue.stderr
    header, *rows = queue.stdout.splitlines()
    assert header.split() == ["ORDER", "AGE", "DUE", "SELLER", "REFERENCE", "STATUS", "REASON", "ESCALATED"]
    [row] = [row for row in rows if row.startswith(order["order_id"])]
    assert row.split()[4:] == [portal.seller_id, order["reference"], "SENT_TO_WAREHOUSE", "OTHER", "no"]
    assert row.split()[2] == "in"  # "in 1s": due, not yet overdue

    as_json = cli(queue_stack, "queue", "--json")
    assert order["order_id"] in {request["order_id"] for request in json.loads(as_json.stdout)["requests"]}

    shown = cli(queue_stack, "show", order["order_id"])
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"{order['order_id']}  {order['reference']}  seller {portal.seller_id}")
    assert "request       REQUESTED  reason OTHER" in shown.stdout
    assert "CANCELLATION_REQUESTED" in shown.stdout and f"by seller:{portal.seller_id}" in shown.stdout

    sleep_until(order["cancellation"]["request"]["due_at"])
    overdue = cli(queue_stack, "queue", "--overdue", "--limit", "100")
    [row] = [row for row in overdue.stdout.splitlines() if row.startswith(order["order_id"])]
    assert row.split()[2] == "overdue"


def test_the_cli_decides_and_moves_orders_and_explains_a_refusal(stack):
    portal, warehouse = Portal(stack.api_url, new_seller()), Warehouse(stack.api_url)
    approved, rejected = pending_request(portal, warehouse), pending_request(portal, warehouse)

    approve = cli(stack, "approve", approved["order_id"], "--note", "Stopped at packing")
    assert approve.returncode == 0, approve.stderr
    assert approve.stdout.strip() == (
        f"{approved['order_id']} {approved['reference']} (seller {portal.seller_id}): CANCELLED, request APPROVED"
    )
    reject = cli(stack, "reject", rejected["order_id"], "--reason", "ALREADY_PACKED")
    assert reject.returncode == 0 and reject.stdout.strip().endswith("SENT_TO_WAREHOUSE, request REJECTED")
    despatch = cli(stack, "status", rejected["order_id"], "DESPATCHED", "--tracking", "TRK-9")
    assert despatch.returncode == 0 and "DESPATCHED" in despatch.stdout
    assert portal.request("GET", f"/orders/{rejected['order_id']}").json()["tracking_number"] == "TRK-9"

    # A refusal: the problem's title and detail, exit 1
    refused = cli(stack, "approve", rejected["order_id"])
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith("orders-warehouse: Decision conflict (HTTP 409): The cancellation of order")
    missing = cli(stack, "show", "ord_" + "b" * 26)
    assert missing.returncode == 1 and "(HTTP 404)" in missing.stderr
    malformed = cli(stack, "show", "not-an-id")
    assert malformed.returncode == 1 and "(HTTP 400)" in malformed.stderr and "order_id" in malformed.stderr
    # The detail names the field already: its error is said once
    assert malformed.stderr.count("order_id:") == 1, malformed.stderr


def test_the_cli_shows_what_a_seller_wrote_escaped(stack):
    # Given a request whose note forges a decision line, and text the API takes that a terminal acts on:
    # a CSI (U+009B), right-to-left override (U+202E), a line separator (U+2028)
    portal, warehouse = Portal(stack.api_url, new_seller()), Warehouse(stack.api_url)
    body = order_body(f"REF-\u2028{new_seller()}")
    body["recipient"] = {**body["recipient"], "name": "Ada \u009b31mLovelace\u202e"}
    created = portal.request("POST", "/orders", body)
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    assert warehouse.move(order_id, "SENT_TO_WAREHOUSE").status_code == 200
    forged = "Ordered twice\r\n  decision      ALREADY_PACKED at 2026-12-01T11:00:00.000000Z  rejected by ops"
    requested = portal.request("POST", f"/orders/{order_id}/cancellation-request", {"note": forged + "\u202e"})
    assert requested.status_code == 202, requested.text

    # When the warehouse reads the order and the queue
    shown = cli(stack, "show", order_id)
    queue = whole_queue_table(stack)

    # Then no field acts on the terminal: each is one line, its controls shown as escapes
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert not any(line.lstrip().startswith("decision") for line in lines), shown.stdout
    assert "  seller's note Ordered twice\\r\\n  decision      ALREADY_PACKED" in shown.stdout
    assert "Ada \\x9b31mLovelace\\u202e" in shown.stdout and "REF-\\u2028" in shown.stdout
    for output in (shown.stdout, queue):
        assert not any(character in output for character in "\r\x9b\u202e\u2028"), output
    [row] = [row for row in queue.splitlines() if row.startswith(order_id)]
    assert "REF-\\u2028" in row


def test_the_cli_ends_quietly_when_its_reader_closes_the_pipe(stack):
    # `orders-warehouse queue --json | head`, with a reader that is gone before the answer is written
    reading = subprocess.Popen(
        [str(CLI), "--api", stack.api_url, "queue", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    reading.stdout.close()  # the only read end: the CLI's write meets a closed pipe
    stderr = reading.stderr.read().decode()
    code = reading.wait(timeout=60)

    assert stderr == ""  # no traceback, no "Exception ignored"
    assert code == 141  # as a Unix tool killed by SIGPIPE
